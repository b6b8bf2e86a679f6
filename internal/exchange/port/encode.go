package port

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/xuri/excelize/v2"

	"agtrace/internal/platform"
)

// The two file formats. Both carry one kind of row.
//
// JSON is one document written as a stream, a row per line:
//
//	{"format":"agtrace.exchange/1","standard":"NY/T 4712-2025","kind":"batches","region":"370686","from":"","to":"","rows":[
//	{...},
//	{...}
//	]}
//
// Excel is one sheet named after the kind: row 1 the Chinese headers, row
// 2 the keys, then a row per record; lists and objects are JSON text in
// their cell, codes are text cells.

// FormatName is the "format" of a JSON exchange document.
const FormatName = "agtrace.exchange/1"

// Standard is the field set the rows follow.
const Standard = "NY/T 4712-2025"

// header is the JSON document's head.
type header struct {
	Format   string `json:"format"`
	Standard string `json:"standard"`
	Kind     string `json:"kind"`
	Region   string `json:"region"`
	From     string `json:"from"`
	To       string `json:"to"`
}

// rowWriter writes the rows of one file.
type rowWriter interface {
	Row(v any) error
	Close() error
}

type jsonWriter struct {
	w     *bufio.Writer
	first bool
}

func newJSONWriter(w io.Writer, h header) (*jsonWriter, error) {
	bw := bufio.NewWriterSize(w, 64<<10)
	head, err := json.Marshal(h)
	if err != nil {
		return nil, err
	}
	bw.Write(head[:len(head)-1]) // drop the closing brace: rows follow
	bw.WriteString(`,"rows":[`)
	return &jsonWriter{w: bw, first: true}, nil
}

func (j *jsonWriter) Row(v any) error {
	b, err := marshalRow(v)
	if err != nil {
		return err
	}
	if !j.first {
		j.w.WriteByte(',')
	}
	j.first = false
	j.w.WriteByte('\n')
	_, err = j.w.Write(b)
	if j.w.Buffered() > 32<<10 {
		return j.w.Flush()
	}
	return err
}

func (j *jsonWriter) Close() error {
	j.w.WriteString("\n]}\n")
	return j.w.Flush()
}

// marshalRow encodes a row without HTML escaping (codes and Chinese text stay readable).
func marshalRow(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimRight(buf.Bytes(), "\n"), nil
}

type xlsxWriter struct {
	out  io.Writer
	f    *excelize.File
	sw   *excelize.StreamWriter
	cols []column
	n    int
}

func newXLSXWriter(w io.Writer, kind string) (*xlsxWriter, error) {
	f := excelize.NewFile()
	if err := f.SetSheetName("Sheet1", kind); err != nil {
		f.Close()
		return nil, err
	}
	sw, err := f.NewStreamWriter(kind)
	if err != nil {
		f.Close()
		return nil, err
	}
	cols := columns[kind]
	if err := sw.SetColWidth(1, len(cols), 20); err != nil {
		f.Close()
		return nil, err
	}
	zh, keys := make([]any, len(cols)), make([]any, len(cols))
	for i, c := range cols {
		zh[i], keys[i] = c.ZH, c.Key
	}
	if err := sw.SetRow("A1", zh); err != nil {
		f.Close()
		return nil, err
	}
	if err := sw.SetRow("A2", keys); err != nil {
		f.Close()
		return nil, err
	}
	return &xlsxWriter{out: w, f: f, sw: sw, cols: cols, n: 2}, nil
}

func (x *xlsxWriter) Row(v any) error {
	m := asMap(v)
	cells := make([]any, len(x.cols))
	for i, c := range x.cols {
		val, ok := m[c.Key]
		if !ok || val == nil {
			cells[i] = nil
			continue
		}
		switch c.T {
		case colJSON:
			b, _ := marshalRow(val)
			cells[i] = string(b)
		case colNumber:
			cells[i] = val // float64
		case colBool:
			cells[i] = val // bool
		default:
			cells[i] = fmt.Sprint(val)
		}
	}
	x.n++
	return x.sw.SetRow("A"+strconv.Itoa(x.n), cells)
}

func (x *xlsxWriter) Close() error {
	defer x.f.Close()
	if err := x.sw.Flush(); err != nil {
		return err
	}
	return x.f.Write(x.out)
}

// rawRow is one row read from a file: its number (the spreadsheet row,
// or the position in the JSON rows from 1) and its JSON object.
type rawRow struct {
	n   int
	obj json.RawMessage
}

// parsed is a file read for import.
type parsed struct {
	kind   string
	format string
	rows   []rawRow
}

var (
	errFormat = platform.Invalid(platform.FieldError{Field: "file", Code: "format",
		ZH: "无法识别的文件：请上传本平台导出的 JSON 或 Excel（xlsx）交换文件", EN: "unrecognised file: upload a JSON or Excel (xlsx) exchange file as exported here"})
	errKind = platform.Invalid(platform.FieldError{Field: "kind", Code: "not_allowed",
		ZH: "数据类别应为 operators、batches 或 events", EN: "kind must be operators, batches or events"})
	errTooMany = platform.Invalid(platform.FieldError{Field: "file", Code: "too_many_rows",
		ZH: fmt.Sprintf("文件最多 %d 行", MaxRows), EN: fmt.Sprintf("a file holds at most %d rows", MaxRows)})
	errEmpty = platform.Invalid(platform.FieldError{Field: "file", Code: "empty", ZH: "文件中没有数据行", EN: "the file has no rows"})
)

// parseFile reads an exchange file (JSON document, a bare JSON array of
// rows, or an xlsx workbook). kind, when given, must match the file's.
func parseFile(body []byte, kind string) (parsed, error) {
	var p parsed
	var err error
	switch {
	case bytes.HasPrefix(body, []byte("PK\x03\x04")):
		p, err = parseXLSX(body, kind)
	default:
		p, err = parseJSON(body, kind)
	}
	if err != nil {
		return p, err
	}
	if len(p.rows) == 0 {
		return p, errEmpty
	}
	return p, nil
}

func checkKind(found, given string) (string, error) {
	switch {
	case given != "" && found != "" && given != found:
		return "", platform.Invalid(platform.FieldError{Field: "kind", Code: "mismatch",
			ZH: "文件中的数据类别为 " + found + "，与所选的 " + given + " 不符", EN: "the file holds " + found + ", not " + given})
	case found == "":
		found = given
	}
	for _, k := range Kinds {
		if found == k {
			return found, nil
		}
	}
	return "", errKind
}

func parseJSON(body []byte, kind string) (parsed, error) {
	p := parsed{format: FormatJSON}
	dec := json.NewDecoder(bytes.NewReader(body))
	tok, err := dec.Token()
	if err != nil {
		return p, errFormat
	}
	readRows := func() error {
		for dec.More() {
			var raw json.RawMessage
			if err := dec.Decode(&raw); err != nil {
				return errFormat
			}
			if len(p.rows) >= MaxRows {
				return errTooMany
			}
			p.rows = append(p.rows, rawRow{n: len(p.rows) + 1, obj: raw})
		}
		if _, err := dec.Token(); err != nil { // ]
			return errFormat
		}
		return nil
	}
	switch tok {
	case json.Delim('['):
		if err := readRows(); err != nil {
			return p, err
		}
	case json.Delim('{'):
		for dec.More() {
			t, err := dec.Token()
			if err != nil {
				return p, errFormat
			}
			key, _ := t.(string)
			switch key {
			case "rows":
				if t, err := dec.Token(); err != nil || t != json.Delim('[') {
					return p, errFormat
				}
				if err := readRows(); err != nil {
					return p, err
				}
			case "kind":
				if err := dec.Decode(&p.kind); err != nil {
					return p, errFormat
				}
			default:
				var skip json.RawMessage
				if err := dec.Decode(&skip); err != nil {
					return p, errFormat
				}
			}
		}
	default:
		return p, errFormat
	}
	p.kind, err = checkKind(p.kind, kind)
	return p, err
}

func parseXLSX(body []byte, kind string) (parsed, error) {
	p := parsed{format: FormatXLSX}
	f, err := excelize.OpenReader(bytes.NewReader(body))
	if err != nil {
		return p, errFormat
	}
	defer f.Close()
	sheets := f.GetSheetList()
	if len(sheets) == 0 {
		return p, errFormat
	}
	sheet := sheets[0]
	for _, s := range sheets {
		if s == kind {
			sheet = s
		}
	}
	if p.kind, err = checkKind(strings.TrimSpace(sheet), kind); err != nil {
		if kind == "" {
			return p, err
		}
		p.kind = kind
	}
	rows, err := f.Rows(sheet)
	if err != nil {
		return p, errFormat
	}
	defer rows.Close()
	var keys []string
	for n := 1; rows.Next(); n++ {
		cells, err := rows.Columns()
		if err != nil {
			return p, errFormat
		}
		if keys == nil {
			if isHeader(p.kind, cells) {
				keys = cells
			}
			if n >= 2 && keys == nil {
				return p, platform.Invalid(platform.FieldError{Field: "file", Code: "header",
					ZH: "表格第 1 或第 2 行应为字段名（如 " + columns[p.kind][0].Key + "）", EN: "row 1 or 2 of the sheet must hold the field keys (such as " + columns[p.kind][0].Key + ")"})
			}
			continue
		}
		obj, empty, err := cellsToJSON(p.kind, keys, cells)
		if empty {
			continue
		}
		if len(p.rows) >= MaxRows {
			return p, errTooMany
		}
		if err != nil {
			obj, _ = json.Marshal(map[string]string{"__error": err.Error()})
		}
		p.rows = append(p.rows, rawRow{n: n, obj: obj})
	}
	return p, rows.Error()
}

// isHeader reports whether a sheet row holds the keys of kind.
func isHeader(kind string, cells []string) bool {
	known := map[string]bool{}
	for _, c := range columns[kind] {
		known[c.Key] = true
	}
	n := 0
	for _, c := range cells {
		if known[strings.TrimSpace(c)] {
			n++
		}
	}
	return n >= 2
}

// cellsToJSON turns a sheet row into the row's JSON object by the column
// types (empty cells are left out); a cell that cannot be read is named in
// the error.
func cellsToJSON(kind string, keys, cells []string) (json.RawMessage, bool, error) {
	types := map[string]colType{}
	for _, c := range columns[kind] {
		types[c.Key] = c.T
	}
	obj := map[string]any{}
	var bad error
	for i, raw := range cells {
		if i >= len(keys) {
			break
		}
		key, v := strings.TrimSpace(keys[i]), strings.TrimSpace(raw)
		if key == "" || v == "" {
			continue
		}
		switch types[key] {
		case colNumber:
			f, err := strconv.ParseFloat(v, 64)
			if err != nil && bad == nil {
				bad = fmt.Errorf("%s", key)
			}
			obj[key] = f
		case colBool:
			obj[key] = strings.EqualFold(v, "true") || v == "1" || v == "是"
		case colJSON:
			var x any
			if err := json.Unmarshal([]byte(v), &x); err != nil {
				if bad == nil {
					bad = fmt.Errorf("%s", key)
				}
				continue
			}
			obj[key] = x
		default:
			obj[key] = v
		}
	}
	if len(obj) == 0 && bad == nil {
		return nil, true, nil
	}
	b, err := json.Marshal(obj)
	if err != nil {
		return nil, false, err
	}
	return b, false, bad
}
