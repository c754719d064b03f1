package report

import (
	"strings"
	"testing"
	"time"
)

// fakeClock is a Progress's clock, moved by the test.
type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time      { return c.t }
func (c *fakeClock) add(d time.Duration) { c.t = c.t.Add(d) }
func newTestProgress(level int) (*Progress, *fakeClock, *strings.Builder) {
	var b strings.Builder
	c := &fakeClock{t: time.Unix(1e9, 0)}
	p := NewProgress(func(s string) { b.WriteString(s) }, level, 1)
	p.now = c.now
	return p, c, &b
}

// TestProgressLines checks the lines of one file of 3,000,000 bytes sent
// in 3 s: the first update at once, others only a second apart, the rate
// over the history and the time left, then the final line with the rate
// and time of the whole file, both counted from the first update's offset
// as rsync's are: (1,000,000-32,768)/1 s and (3,000,000-32,768)/3 s, in
// units of 1024 bytes (progress.c show_progress, rprint_progress).
func TestProgressLines(t *testing.T) {
	p, c, b := newTestProgress(1)
	p.Show(32768, 3000000)
	c.add(500 * time.Millisecond)
	p.Show(500000, 3000000) // within the second: nothing
	c.add(500 * time.Millisecond)
	p.Show(1000000, 3000000)
	c.add(2 * time.Second)
	p.End(3000000, Counts{Xfr: 2, Left: 2, Total: 5, EOF: true})
	want := "\r         32,768   1%    0.00kB/s    0:00:00  " +
		"\r      1,000,000  33%  944.56kB/s    0:00:02  " +
		"\r      3,000,000 100%  965.90kB/s    0:00:03 (xfr#2, to-chk=2/5)\n"
	if b.String() != want {
		t.Errorf("got  %q\nwant %q", b.String(), want)
	}
}

// TestProgressWholeTransfer checks level 2: positions counted over the
// transfer, the "ir-chk" form, no newline, and the padding that covers a
// longer ending printed before.
func TestProgressWholeTransfer(t *testing.T) {
	p, c, b := newTestProgress(2)
	p.Transferred, p.TotalSize = 100, 2000
	p.Show(50, 100)
	c.add(time.Second)
	p.End(100, Counts{Xfr: 10, Left: 100, Total: 200})
	p.Transferred = 2000
	c.add(time.Second)
	p.End(0, Counts{Xfr: 11, Left: 0, Total: 200, EOF: true})
	want := "\r             50   2%    0.00kB/s    0:00:00  " +
		"\r            100   5%    0.05kB/s    0:00:01 (xfr#10, ir-chk=100/200)" +
		"\r          2,000 100%    0.95kB/s    0:00:02 (xfr#11, to-chk=0/200)  "
	if b.String() != want {
		t.Errorf("got  %q\nwant %q", b.String(), want)
	}
}
