package report

import (
	"fmt"
	"strings"
	"sync"
	"time"
)

// progressHistory is how many once-a-second marks the rate of a line in
// progress is taken over. rsync: progress.c PROGRESS_HISTORY_SECS
const progressHistory = 5

// progressMark is a moment of the transfer and where it was then.
type progressMark struct {
	t   time.Time
	ofs int64
}

// Counts are the figures a finished file's progress line ends with:
// "(xfr#Xfr, to-chk=Left/Total)", "ir-chk" while more lists may come.
type Counts struct {
	Xfr   int64 // files transferred so far (rsync's stats.xferred_files)
	Left  int64 // entries after this one in the lists so far
	Total int64 // entries in the lists so far (stats.num_files)
	EOF   bool  // no list follows (rsync's flist_eof)
}

// Progress prints rsync's --progress lines for one side of a transfer: an
// update of the file in transfer at most once a second, ending in two
// spaces and a carriage return's worth of overwriting, and each file's
// final line with its counts. At level 2 (--info=progress2) the lines are
// the whole transfer's, the file's bytes added to what was transferred
// before it, and no line ends in a newline. rsync: progress.c
type Progress struct {
	// Out receives the text, on the client's standard output.
	Out func(string)
	// Level is rsync's INFO_PROGRESS, 1 or 2; Human its -h level.
	Level int
	Human int

	mu  sync.Mutex
	now func() time.Time
	// start is where the current line's rate is counted from (rsync's
	// ph_start); hist the last progressHistory marks, newest at newest.
	start          progressMark
	started        bool
	hist           [progressHistory]progressMark
	newest, oldest int
	lastLen        int // level 2: the longest ending printed
	// Transferred and TotalSize are rsync's stats.total_transferred_size
	// (the file in transfer included) and stats.total_size: a level 2
	// line's position and total.
	Transferred, TotalSize int64
}

// NewProgress returns a printer of level's lines (1 or 2) writing to out.
func NewProgress(out func(string), level, human int) *Progress {
	return &Progress{Out: out, Level: level, Human: human, now: time.Now}
}

// Show reports that a file of size bytes is at ofs: it prints an update if
// the file has just begun or a second has passed since the last one.
// rsync: progress.c show_progress
func (p *Progress) Show(ofs, size int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.now()
	if p.Level >= 2 {
		ofs = p.Transferred - size + ofs
		size = p.TotalSize
	}
	if !p.started {
		p.started = true
		// A file that follows one whose data came just now starts
		// its clock then: the sender was sending it already.
		if !p.hist[p.newest].t.IsZero() && now.Sub(p.hist[p.newest].t) <= 1500*time.Millisecond {
			p.start = progressMark{t: p.hist[p.newest].t}
		} else {
			p.start = progressMark{t: now, ofs: ofs}
		}
		for i := range p.hist {
			p.hist[i] = p.start
		}
	} else {
		if now.Sub(p.hist[p.newest].t) < time.Second {
			return
		}
		p.newest = p.oldest
		p.oldest = (p.oldest + 1) % progressHistory
		p.hist[p.newest] = progressMark{t: now, ofs: ofs}
	}
	p.line(ofs, size, now, nil)
}

// End prints a file's final line, size its length (level 1), with c's
// counts. At level 2 it prints the whole transfer's line, as rsync does at
// each list's end too. rsync: progress.c end_progress
func (p *Progress) End(size int64, c Counts) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.now()
	if p.Level >= 2 {
		p.line(p.Transferred, p.TotalSize, now, &c)
		return
	}
	p.line(size, size, now, &c)
	p.started, p.start = false, progressMark{}
}

// line prints one progress line: an update (c nil) or a final one.
// rsync: progress.c rprint_progress
func (p *Progress) line(ofs, size int64, now time.Time, c *Counts) {
	var rate, remain float64
	var eol string
	if c != nil {
		kind := "to"
		if !c.EOF {
			kind = "ir"
		}
		eol = fmt.Sprintf(" (xfr#%d, %s-chk=%d/%d)\n", c.Xfr, kind, c.Left, c.Total)
		if p.Level >= 2 {
			// No newline, and spaces over what a longer ending left.
			eol = eol[:len(eol)-1]
			if len(eol) > p.lastLen {
				p.lastLen = len(eol)
			}
			eol += strings.Repeat(" ", p.lastLen-len(eol))
		}
		diff := int64(1)
		if p.started {
			if d := now.Sub(p.start.t).Milliseconds(); d > 0 {
				diff = d
			}
		}
		rate = float64(ofs-p.start.ofs) * 1000 / float64(diff) / 1024
		remain = float64(diff) / 1000 // the time it took
	} else {
		eol = "  "
		old := p.hist[p.oldest]
		diff := now.Sub(old.t).Milliseconds()
		if diff <= 0 {
			diff = 1
		}
		rate = float64(ofs-old.ofs) * 1000 / float64(diff) / 1024
		if rate != 0 {
			remain = float64(size-ofs) / rate / 1000
		}
	}
	units := "kB/s"
	switch {
	case rate > 1024*1024:
		rate /= 1024 * 1024
		units = "GB/s"
	case rate > 1024:
		rate /= 1024
		units = "MB/s"
	}
	rem := "  ??:??:??"
	if remain >= 0 && remain <= 9999*3600 {
		rem = fmt.Sprintf("%4d:%02d:%02d", uint(remain/3600), uint(remain/60)%60, uint(remain)%60)
	}
	pct := 100
	if ofs != size {
		pct = int(100 * float64(ofs) / float64(size))
	}
	p.Out(fmt.Sprintf("\r%15s %3d%% %7.2f%s %s%s", HumanNum(ofs, p.Human), pct, rate, units, rem, eol))
}
