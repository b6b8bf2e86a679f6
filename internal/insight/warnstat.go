package insight

import "math"

// The statistics of the early-warning rules (docs/insight.md): exact
// binomial and Poisson tail probabilities, computed in log space so that
// large counts neither overflow nor lose the small tails the rules compare
// with their significance level.

// logChoose is ln C(n, k).
func logChoose(n, k int64) float64 {
	a, _ := math.Lgamma(float64(n + 1))
	b, _ := math.Lgamma(float64(k + 1))
	c, _ := math.Lgamma(float64(n - k + 1))
	return a - b - c
}

// binomLogPMF is ln P(X = k) for X ~ Binomial(n, p), 0 < p < 1.
func binomLogPMF(k, n int64, p float64) float64 {
	return logChoose(n, k) + float64(k)*math.Log(p) + float64(n-k)*math.Log1p(-p)
}

// BinomUpper is P(X ≥ x) for X ~ Binomial(n, p): how likely x or more
// failures among n tests are if the true failure rate is p.
func BinomUpper(x, n int64, p float64) float64 {
	switch {
	case x <= 0:
		return 1
	case x > n:
		return 0
	case p <= 0:
		return 0
	case p >= 1:
		return 1
	}
	// sum the upper terms from the largest down (they only grow towards the mode)
	sum := 0.0
	for k := n; k >= x; k-- {
		sum += math.Exp(binomLogPMF(k, n, p))
	}
	return math.Min(sum, 1)
}

// poissonLogPMF is ln P(X = k) for X ~ Poisson(lambda), lambda > 0.
func poissonLogPMF(k int64, lambda float64) float64 {
	g, _ := math.Lgamma(float64(k + 1))
	return float64(k)*math.Log(lambda) - lambda - g
}

// PoissonUpper is P(X ≥ x) for X ~ Poisson(lambda): how likely x or more
// events are when lambda are expected.
func PoissonUpper(x int64, lambda float64) float64 {
	switch {
	case x <= 0:
		return 1
	case lambda <= 0:
		return 0
	}
	if float64(x) <= lambda {
		return math.Max(0, 1-PoissonLower(x-1, lambda))
	}
	// above the mean the terms fall: add them until they no longer count
	sum := 0.0
	for k := x; ; k++ {
		t := math.Exp(poissonLogPMF(k, lambda))
		sum += t
		if t < sum*1e-16 || k-x > 100000 {
			break
		}
	}
	return math.Min(sum, 1)
}

// PoissonLower is P(X ≤ x) for X ~ Poisson(lambda): how likely as few as x
// events are when lambda are expected.
func PoissonLower(x int64, lambda float64) float64 {
	switch {
	case x < 0:
		return 0
	case lambda <= 0:
		return 1
	}
	sum := 0.0
	for k := int64(0); k <= x; k++ {
		sum += math.Exp(poissonLogPMF(k, lambda))
	}
	return math.Min(sum, 1)
}

// binomCritical is the smallest number of failures among n that a rate
// test at level alpha flags (n+1 when none would be).
func binomCritical(n int64, p, alpha float64) int64 {
	for x := int64(math.Floor(float64(n)*p)) + 1; x <= n; x++ {
		if BinomUpper(x, n, p) < alpha {
			return x
		}
	}
	return n + 1
}

// poissonCriticalUpper is the smallest count a surge test flags.
func poissonCriticalUpper(lambda, alpha float64) int64 {
	x := int64(math.Floor(lambda)) + 1
	for ; PoissonUpper(x, lambda) >= alpha; x++ {
	}
	return x
}

// poissonCriticalLower is the largest count a drop test flags (-1: none).
func poissonCriticalLower(lambda, alpha float64) int64 {
	x := int64(-1)
	for k := int64(0); float64(k) < lambda && PoissonLower(k, lambda) < alpha; k++ {
		x = k
	}
	return x
}
