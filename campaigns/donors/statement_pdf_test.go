package donors_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/ledongthuc/pdf"
)

// checkPDFText reads the text of every page of doc back out of the PDF (as a reader's
// copy and paste would) and fails for each of want it does not hold.
func checkPDFText(t *testing.T, doc []byte, want ...string) {
	t.Helper()
	r, err := pdf.NewReader(bytes.NewReader(doc), int64(len(doc)))
	if err != nil {
		t.Fatalf("read the PDF: %v", err)
	}
	var text strings.Builder
	for i := 1; i <= r.NumPage(); i++ {
		p := r.Page(i)
		if p.V.IsNull() {
			continue
		}
		rows, err := p.GetTextByRow()
		if err != nil {
			t.Fatalf("page %d: %v", i, err)
		}
		for _, row := range rows {
			for _, w := range row.Content {
				text.WriteString(w.S)
			}
			text.WriteString("\n")
		}
	}
	for _, w := range want {
		if !strings.Contains(text.String(), w) {
			t.Errorf("the PDF does not say %q; its text:\n%s", w, text.String())
		}
	}
}
