package trace

// ExpireCatalogue makes the loaded catalogue copy look older than its TTL
// and returns a func reporting whether a newer copy has been loaded since.
func ExpireCatalogue(s *Service) (reloaded func() bool) {
	old := s.cat.cur.Load()
	expired := *old
	expired.loaded = old.loaded.Add(-2 * catalogueTTL)
	s.cat.cur.Store(&expired)
	return func() bool { return s.cat.cur.Load() != &expired }
}

// Unfolded is how many views of code this instance counted that are not in
// trace_scans yet.
func Unfolded(s *Service, code string) int64 { return s.scans.unflushed(code) }

// VerifyKey is the service's token key.
func VerifyKey(s *Service) []byte { return s.verifyKey }

// SetScanFoldChunk sets how many keys a fold's chunk holds and returns a
// func restoring it.
func SetScanFoldChunk(n int) (restore func()) {
	old := scanFoldChunk
	scanFoldChunk = n
	return func() { scanFoldChunk = old }
}

// SetScanAreaLookup sets how many codes a fold looks up a statement and
// returns a func restoring it.
func SetScanAreaLookup(n int) (restore func()) {
	old := scanAreaLookup
	scanAreaLookup = n
	return func() { scanAreaLookup = old }
}

// SetMaxInLog sets how many keys an instance sums in memory between folds
// (0: every fold reads its log rows back) and returns a func restoring it.
func SetMaxInLog(n int) (restore func()) {
	old := maxInLog
	maxInLog = n
	return func() { maxInLog = old }
}
