package filter

import "testing"

// TestClone checks that rules added to a clone (as a local copy's
// receiving side adds -C's) leave the original list as it was, and that
// the clone starts with the original's rules and merge files.
func TestClone(t *testing.T) {
	l := New(Options{})
	for _, r := range []string{"- *.o", ": .rules", "+ keep"} {
		if err := l.AddFilter(r); err != nil {
			t.Fatal(err)
		}
	}
	c := l.Clone()
	if err := c.AddFilter("- extra"); err != nil {
		t.Fatal(err)
	}
	if err := c.AddFilter(": .more"); err != nil {
		t.Fatal(err)
	}
	if got := len(l.Rules()); got != 3 {
		t.Errorf("original has %d rules after the clone grew, want 3", got)
	}
	if got := len(l.perDir); got != 1 {
		t.Errorf("original has %d dir-merge rules after the clone grew, want 1", got)
	}
	if got := len(c.Rules()); got != 5 {
		t.Errorf("clone has %d rules, want 5", got)
	}
	if l.Check("extra", false).Sender != NoMatch {
		t.Error("a rule added to the clone applies to the original")
	}
	if c.Check("x.o", false).Sender != Excluded || c.Check("extra", false).Sender != Excluded {
		t.Error("the clone lost a rule")
	}
}
