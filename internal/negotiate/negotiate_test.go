package negotiate

import (
	"strings"
	"testing"
)

var names = []string{"best", "good", "none"}

// lookup knows names, case-insensitively, and "fine" as an alias of "good".
func lookup(name string) (int, string, bool) {
	if strings.EqualFold(name, "fine") {
		return 1, "good", true
	}
	for i, n := range names {
		if strings.EqualFold(n, name) {
			return i, name, true
		}
	}
	return 0, "", false
}

func TestLocal(t *testing.T) {
	cases := []struct {
		env    string
		server bool
		want   string
	}{
		{"", false, "best good"},
		{"", true, "best good none"},
		{" \t\n", false, "best good"},
		{"good best", false, "good best"},
		{"fine good GOOD best", false, "good best"},
		{"Best", false, "Best"},
		{"good & none", false, "good"},
		{"good & none", true, "none"},
		{"&good", false, "best good"},
		{"good&", true, "best good none"},
		{"bogus", false, "INVALID"},
		{"bogus\vnone\r", false, "none"},
		// Only ASCII white space separates names, as in C's isspace.
		{"good\u00a0best", false, "INVALID"},
	}
	for _, c := range cases {
		if got := strings.Join(Local(c.env, c.server, names, lookup), " "); got != c.want {
			t.Errorf("Local(%q, server=%v) = %q, want %q", c.env, c.server, got, c.want)
		}
	}
}

// TestLocalLength checks that the list stops before it would pass 255
// bytes.
func TestLocalLength(t *testing.T) {
	long := func(name string) (int, string, bool) { return len(name), name, true }
	env := strings.Repeat("a", 200) + " " + strings.Repeat("b", 54) + " " + strings.Repeat("c", 1) + " d"
	got := Local(env, false, nil, long)
	if len(got) != 2 || len(strings.Join(got, " ")) != 255 {
		t.Errorf("Local kept %d names, %d bytes; want 2 names, 255 bytes", len(got), len(strings.Join(got, " ")))
	}
}

func TestChoose(t *testing.T) {
	cases := []struct {
		local, remote string
		want          int
	}{
		{"best good", "best good none", 0},
		{"best good none", "good none", 1},
		// Our own order wins, whatever the peer's order.
		{"good best", "best good", 0},
		{"good", "fine", 0},
		{"best", "good none", -1},
		{"INVALID", "best INVALID", -1},
		{"best", "", -1},
	}
	for _, c := range cases {
		if got := Choose(strings.Fields(c.local), strings.Fields(c.remote), lookup); got != c.want {
			t.Errorf("Choose(%q, %q) = %d, want %d", c.local, c.remote, got, c.want)
		}
	}
}
