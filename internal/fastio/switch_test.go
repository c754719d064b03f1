package fastio

import "testing"

func TestParseSwitches(t *testing.T) {
	m, err := ParseSwitches("all=off, uring=on,mmap=0")
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range Paths() {
		want := p == Uring
		if m[p] != want {
			t.Errorf("%s = %v, want %v", p, m[p], want)
		}
	}
	if _, err := ParseSwitches("mmap=maybe,bogus=on"); err == nil {
		t.Error("bad switches accepted")
	}
}

func TestForceRestores(t *testing.T) {
	before := Enabled(Mmap)
	restore := Force(Mmap, !before)
	if Enabled(Mmap) == before {
		t.Fatal("Force had no effect")
	}
	restore()
	if Enabled(Mmap) != before {
		t.Fatal("restore did not restore")
	}
}
