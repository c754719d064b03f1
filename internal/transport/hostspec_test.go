package transport

import "testing"

func TestParse(t *testing.T) {
	tests := []struct {
		arg  string
		want Location
	}{
		{"src/", Location{Path: "src/"}},
		{"/abs/path", Location{Path: "/abs/path"}},
		{"./a:b", Location{Path: "./a:b"}},
		{"dir/a:b", Location{Path: "dir/a:b"}},
		{"host:path", Location{Host: "host", Path: "path"}},
		{"host:", Location{Host: "host", Path: ""}},
		{"host:/abs", Location{Host: "host", Path: "/abs"}},
		{"me@host:p/q", Location{User: "me", Host: "host", Path: "p/q"}},
		{"[::1]:p", Location{Host: "::1", Path: "p"}},
		{"host::mod/x", Location{Host: "host", Path: "mod/x", Daemon: true}},
		{"rsync://host/mod/x", Location{Host: "host", Path: "mod/x", Daemon: true}},
		{"rsync://u@host:8730/mod", Location{User: "u", Host: "host", Path: "mod", Daemon: true, Port: 8730}},
		{"plainfile", Location{Path: "plainfile"}},
	}
	for _, tt := range tests {
		if got := Parse(tt.arg); got != tt.want {
			t.Errorf("Parse(%q) = %+v, want %+v", tt.arg, got, tt.want)
		}
	}
}

func TestSplitRsh(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"ssh", []string{"ssh"}},
		{"ssh -p 22  -i key", []string{"ssh", "-p", "22", "-i", "key"}},
		{`ssh -o "ProxyCommand nc %h %p"`, []string{"ssh", "-o", "ProxyCommand nc %h %p"}},
		{`sh -c 'a ''b'''`, []string{"sh", "-c", "a 'b'"}},
	}
	for _, tt := range tests {
		got, err := SplitRsh(tt.in)
		if err != nil || len(got) != len(tt.want) {
			t.Errorf("SplitRsh(%q) = %q, %v", tt.in, got, err)
			continue
		}
		for i := range got {
			if got[i] != tt.want[i] {
				t.Errorf("SplitRsh(%q)[%d] = %q, want %q", tt.in, i, got[i], tt.want[i])
			}
		}
	}
	if _, err := SplitRsh(`ssh "x`); err == nil {
		t.Error("unterminated quote accepted")
	}
}
