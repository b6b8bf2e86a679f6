package operator

import (
	"context"
	"io"

	"agtrace/internal/auth"
	"agtrace/internal/platform"
	"agtrace/internal/printing"
)

var errNoCode = platform.Conflict("审核通过后才会发放主体身份码", "the operator code is issued on approval")

// URL is the public address of the operator's e-ID page, as printed in its QR code.
func (s *Service) URL(code string) string { return printing.OperatorURL(s.PublicURL, code) }

// QR renders the operator's e-ID QR code (the /o/{code} URL) as "png" or "svg".
func (s *Service) QR(ctx context.Context, actor *auth.Actor, id int64, format string) ([]byte, string, error) {
	o, err := s.Get(ctx, actor, id)
	if err != nil {
		return nil, "", err
	}
	if o.Code == "" {
		return nil, "", errNoCode
	}
	if format == "svg" {
		b, err := printing.QRSVG(s.URL(o.Code))
		return b, "image/svg+xml", err
	}
	b, err := printing.QRPNG(s.URL(o.Code), 400)
	return b, "image/png", err
}

// ECard writes the printable e-ID card (PDF) of an operator with a code.
func (s *Service) ECard(ctx context.Context, actor *auth.Actor, id int64, w io.Writer) error {
	o, err := s.Get(ctx, actor, id)
	if err != nil {
		return err
	}
	if o.Code == "" {
		return errNoCode
	}
	issued := o.CreatedAt
	if o.ApprovedAt != nil {
		issued = *o.ApprovedAt
	}
	status := o.Status
	if status == StatusCancelled {
		status = "revoked"
	}
	return printing.OperatorCard(w, printing.Card{OperatorCode: o.Code, BaseURL: s.PublicURL, OperatorName: o.Name, Kind: o.Kind,
		RegionName: s.RegionName(ctx, o.RegionCode), Status: status, IssueDate: issued.In(platform.ChinaTZ), Size: printing.CardCR80})
}
