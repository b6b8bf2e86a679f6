package supervision_test

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"strings"
	"testing"

	"agtrace/internal/app"
	"agtrace/internal/apptest"
	"agtrace/internal/secure"
)

// TestInspectionByOperatorCode: an inspector scans the farm's e-ID (the
// /o/{code} URL), records a site inspection of two of its batches with a
// checklist, GPS and a rectification deadline; the record is signed by the
// platform key (checked with secure.Verify, independently of the service),
// shows on the operator and on each batch, carries a photo, and marks the
// farm rectifying on its credit record until a passing re-inspection.
func TestInspectionByOperatorCode(t *testing.T) {
	apptest.ForEachEngine(t, func(t *testing.T, a *app.App) {
		w := newWorld(t, a)
		b1, b2 := w.batch(t, 100), w.batch(t, 200)
		lat, lng := 37.3, 120.8
		r := w.inspector.Do("POST", "/api/v1/inspections", map[string]any{
			"operator_code": "http://trace.test/o/" + w.farm.Code, "kind": "site", "batch_codes": []string{b1, "http://trace.test/q/" + b2, b1},
			"checklist": []map[string]any{{"item": "records", "ok": true}, {"item": "inputs", "ok": false, "note": "农药库房未上锁"}},
			"result":    "rectify", "rectify_days": 5, "notes": "基地巡查", "lat": lat, "lng": lng}).Expect(t, 201)
		id := r.Str("id")
		if r.Str("operator_code") != w.farm.Code || r.Str("result") != "rectify" || r.Str("rectify_due") == "" || r.Str("number")[:10] != "XC-370686-" {
			t.Fatalf("recorded: %s", r.Body)
		}
		if got := r.Get("batches").([]any); len(got) != 2 {
			t.Fatalf("batches (scanned twice, one as a URL): %v", got)
		}
		sig, err := base64.StdEncoding.DecodeString(r.Str("signature"))
		if err != nil || !secure.Verify(a.Signer.PublicKeyPEM(), []byte(r.Str("signed_text")), sig) {
			t.Fatalf("the platform's signature does not verify: %s", r.Body)
		}
		if !strings.Contains(r.Str("signed_text"), `"inspector":"qixia-inspector"`) || !strings.Contains(r.Str("signed_text"), w.farm.Code) {
			t.Errorf("the signed text does not name the inspector and operator: %s", r.Str("signed_text"))
		}
		tampered := strings.Replace(r.Str("signed_text"), "rectify", "pass", 1)
		if secure.Verify(a.Signer.PublicKeyPEM(), []byte(tampered), sig) {
			t.Fatal("a tampered record still verifies")
		}

		for _, c := range []*apptest.Client{w.inspector, w.supervisor, w.farmC} {
			list := c.Do("GET", fmt.Sprintf("/api/v1/operators/%d/inspections", w.farm.ID), nil).Expect(t, 200)
			if list.Str("items.0.id") != id {
				t.Errorf("the operator's inspections: %s", list.Body)
			}
		}
		for _, b := range []string{b1, b2} {
			if list := w.inspector.Do("GET", "/api/v1/inspections?batch="+b, nil).Expect(t, 200); list.Str("items.0.id") != id {
				t.Errorf("batch %s inspections: %s", b, list.Body)
			}
		}
		w.farInsp.Do("GET", "/api/v1/inspections/"+id, nil).Expect(t, 404)

		photo := w.inspector.Upload("/api/v1/inspections/"+id+"/photos", "base.jpg", jpegBytes(t), nil).Expect(t, 201)
		pid := photo.Str("photos.0.id")
		got := w.supervisor.Do("GET", "/api/v1/inspections/"+id+"/photos/"+pid, nil).Expect(t, 200)
		if _, format, err := image.Decode(bytes.NewReader([]byte(got.Body))); err != nil || format != "jpeg" {
			t.Fatalf("photo served back: %v %s", err, format)
		}
		w.inspector2.Upload("/api/v1/inspections/"+id+"/photos", "x.jpg", jpegBytes(t), nil).Expect(t, 403)

		credit := w.farmC.Do("GET", fmt.Sprintf("/api/v1/operators/%d/credit", w.farm.ID), nil).Expect(t, 200)
		if credit.Str("level") != "rectifying" {
			t.Fatalf("credit after rectify: %s", credit.Body)
		}
		w.inspector2.Do("POST", "/api/v1/inspections", map[string]any{"operator_code": w.farm.Code, "kind": "site", "result": "pass",
			"checklist": []map[string]any{{"item": "inputs", "ok": true}}}).Expect(t, 201)
		if c := w.supervisor.Do("GET", fmt.Sprintf("/api/v1/operators/%d/credit", w.farm.ID), nil).Expect(t, 200); c.Str("level") != "clean" || c.Str("entries.0.lifted") == "" {
			t.Fatalf("credit after a passing re-inspection: %s", c.Body)
		}
	})
}

// TestInspectionBadInput: out of jurisdiction 404, missing deadline,
// unknown item, another operator's batch, a failed item with a pass, photos
// of the wrong type or too large — all refused with nothing written.
func TestInspectionBadInput(t *testing.T) {
	apptest.ForEachEngine(t, func(t *testing.T, a *app.App) {
		w := newWorld(t, a)
		before := counts(t, a)
		w.inspector.Do("POST", "/api/v1/inspections", map[string]any{"operator_code": w.far.Code, "kind": "site", "result": "pass"}).Expect(t, 404)
		w.farmC.Do("POST", "/api/v1/inspections", map[string]any{"operator_code": w.farm.Code, "kind": "site", "result": "pass"}).Expect(t, 403)
		cases := []struct {
			body  map[string]any
			field string
		}{
			{map[string]any{"operator_code": w.farm.Code, "kind": "site", "result": "rectify"}, "rectify_days"},
			{map[string]any{"operator_code": w.farm.Code, "kind": "site", "result": "pass", "rectify_days": 3}, "rectify_days"},
			{map[string]any{"operator_code": w.farm.Code, "kind": "visit", "result": "pass"}, "kind"},
			{map[string]any{"operator_code": w.farm.Code, "kind": "site", "result": "fine"}, "result"},
			{map[string]any{"operator_code": w.farm.Code, "kind": "site", "result": "pass", "checklist": []map[string]any{{"item": "ear_tags", "ok": true}}}, "checklist[0].item"},
			{map[string]any{"operator_code": w.farm.Code, "kind": "site", "result": "pass", "checklist": []map[string]any{{"item": "records", "ok": false, "note": "缺记录"}}}, "result"},
			{map[string]any{"operator_code": w.farm.Code, "kind": "site", "result": "violation", "checklist": []map[string]any{{"item": "records", "ok": false}}}, "checklist[0].note"},
			{map[string]any{"operator_code": w.farm.Code, "kind": "site", "result": "pass", "lat": 95.0, "lng": 120.0}, "lat"},
			{map[string]any{"operator_code": w.farm.Code, "kind": "site", "result": "pass", "batch_codes": []string{"999999999999999999999"}}, "batch_codes[0]"},
			{map[string]any{"operator_code": w.farm.Code, "kind": "site", "result": "pass", "task_id": 12345}, "task_id"},
		}
		for _, c := range cases {
			if r := w.inspector.Do("POST", "/api/v1/inspections", c.body).Expect(t, 422); !hasField(r, c.field) {
				t.Errorf("%v: refusal does not name %s: %s", c.body, c.field, r.Body)
			}
		}
		sameCounts(t, before, counts(t, a))

		id := w.inspector.Do("POST", "/api/v1/inspections", map[string]any{"operator_code": w.farm.Code, "kind": "enforcement", "result": "pass"}).Expect(t, 201).Str("id")
		before = counts(t, a)
		w.inspector.Upload("/api/v1/inspections/"+id+"/photos", "x.gif", []byte("GIF89a\x01\x00\x01\x00"), nil).Expect(t, 415)
		w.inspector.Upload("/api/v1/inspections/"+id+"/photos", "x.pdf", []byte("%PDF-1.4\n"), nil).Expect(t, 415)
		big := append(append([]byte{}, jpegBytes(t)...), make([]byte, 10<<20)...)
		w.inspector.Upload("/api/v1/inspections/"+id+"/photos", "big.jpg", big, nil).Expect(t, 413)
		sameCounts(t, before, counts(t, a))
	})
}

// jpegBytes is a small real JPEG.
func jpegBytes(t *testing.T) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 32, 24))
	for x := 0; x < 32; x++ {
		for y := 0; y < 24; y++ {
			img.Set(x, y, color.RGBA{uint8(x * 8), uint8(y * 10), 90, 255})
		}
	}
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, nil); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}
