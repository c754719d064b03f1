package fastio

import "testing"

func TestParseConfig(t *testing.T) {
	c, err := ParseConfig("all=off, uring=on,mmap=0")
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range Paths() {
		want := p == Uring
		if c.On(p) != want {
			t.Errorf("%s = %v, want %v", p, c.On(p), want)
		}
	}
	if _, err := ParseConfig("mmap=maybe,bogus=on"); err == nil {
		t.Error("bad switches accepted")
	}
	if c, err := ParseConfig(""); err != nil || c != Defaults() {
		t.Errorf(`ParseConfig("") = %v, %v; want the defaults`, c, err)
	}
	if got, err := ParseConfig(Defaults().String()); err != nil || got != Defaults() {
		t.Errorf("ParseConfig(Defaults().String()) = %v, %v", got, err)
	}
}

func TestDefaults(t *testing.T) {
	d := Defaults()
	for _, p := range Paths() {
		if d.On(p) != Default(p) {
			t.Errorf("Defaults().On(%s) = %v, Default = %v", p, d.On(p), Default(p))
		}
		if d.With(p, !d.On(p)).On(p) == d.On(p) {
			t.Errorf("With(%s) had no effect", p)
		}
	}
	if d.On(Mmap) != true || d.On(Uring) != false {
		t.Errorf("defaults changed: %v", d)
	}
}
