package insight

import (
	"io"
	"strconv"

	"github.com/xuri/excelize/v2"
)

// Table is a dashboard table as exported: a title, a header row and rows
// (strings and numbers; numbers stay numbers, so the sheet sums and sorts).
type Table struct {
	Title  string
	Header []string
	Rows   [][]any
}

// WriteXLSX writes t as a one-sheet workbook (streamed, as the recall sheet is).
func WriteXLSX(w io.Writer, t Table) error {
	x := excelize.NewFile()
	defer x.Close()
	sheet := t.Title
	if r := []rune(sheet); len(r) > 31 || len(r) == 0 {
		sheet = "figures"
	}
	if err := x.SetSheetName("Sheet1", sheet); err != nil {
		return err
	}
	sw, err := x.NewStreamWriter(sheet)
	if err != nil {
		return err
	}
	if err := sw.SetColWidth(1, max(1, len(t.Header)), 18); err != nil {
		return err
	}
	head := make([]any, len(t.Header))
	for i, h := range t.Header {
		head[i] = h
	}
	if err := sw.SetRow("A1", head); err != nil {
		return err
	}
	for i, r := range t.Rows {
		if err := sw.SetRow("A"+strconv.Itoa(i+2), r); err != nil {
			return err
		}
	}
	if err := sw.Flush(); err != nil {
		return err
	}
	return x.Write(w)
}

// Product is a catalogue product for the dashboard's filter.
type Product struct{ Code, Name, NameEN string }
