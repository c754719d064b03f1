package report

import "testing"

func TestEscape(t *testing.T) {
	tests := []struct {
		msg            string
		eightBit, utf8 bool
		want           string
	}{
		{"plain name\n", false, true, "plain name\n"},
		{"a\x01b\tc\n", false, true, `a\#001b` + "\tc\n"},
		{"caf\xc3\xa9\n", false, true, "caf\xc3\xa9\n"},
		{"caf\xc3\xa9\n", false, false, `caf\#303\#251` + "\n"},
		{"caf\xc3\xa9\n", true, false, "caf\xc3\xa9\n"},
		{"x\xffy\x7fz\n", false, true, `x\#377y` + "\x7fz\n"},
		{"x\xffy\n", true, true, "x\xffy\n"},
		{`a\#123b` + "\n", true, true, `a\#134#123b` + "\n"},
		{`a\#12` + "\n", false, true, `a\#12` + "\n"},
		{"two\nlines\n", false, true, `two\#012lines` + "\n"},
		{"\rprogress\r", false, true, "\rprogress\r"},
		{"a\x01\x01\n", true, true, `a\#001\#001` + "\n"},
		{"log\x85\xff\n", true, false, `log\#205` + "\xff\n"}, // LogFileEscaper
	}
	for _, tt := range tests {
		x := &Escaper{EightBit: tt.eightBit, UTF8: tt.utf8}
		if tt.eightBit && !tt.utf8 && tt.msg == "log\x85\xff\n" {
			x = LogFileEscaper
		}
		if got := x.Escape(tt.msg); got != tt.want {
			t.Errorf("Escape(%q, 8bit=%v, utf8=%v) = %q, want %q", tt.msg, tt.eightBit, tt.utf8, got, tt.want)
		}
	}
}
