package options

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// LimitOptions are the options that bound a transfer's rate, its time and
// its memory, and choose how the arguments reach the server.
type LimitOptions struct {
	// BwLimit is --bwlimit in KiB per second, rsync's bwlimit (0: no
	// limit).
	BwLimit int
	// Timeout is --timeout in seconds (0: none); ConTimeout is
	// --contimeout, which only a daemon connection may use.
	Timeout    int
	ConTimeout int
	// StopAt is when --stop-after or --stop-at ends the transfer; zero
	// when neither was given.
	StopAt time.Time
	// MaxAlloc is --max-alloc (or $RSYNC_MAX_ALLOC) in bytes, rsync's
	// max_alloc; 0 when neither is given (see AllocLimit). MaxAllocArg is
	// the value as given, which the server is passed when it is not the
	// default.
	MaxAlloc    int64
	MaxAllocArg string
	// BlockingIO is --blocking-io (On) or --no-blocking-io (Off).
	BlockingIO TriState
	// OldArgs is rsync's old_style_args: --old-args counted, or
	// $RSYNC_OLD_ARGS; 0 for the modern quoting.
	OldArgs int
	// SecludedArgs is -s (--secluded-args, --protect-args, or
	// $RSYNC_PROTECT_ARGS): the client sends the paths and most options
	// over the connection instead of the remote shell's command line.
	SecludedArgs bool

	oldArgsSet   bool     // --old-args or --no-old-args was given
	secludedSet  TriState // -s (On) or --no-s (Off) as given
	maxAllocSeen bool     // --max-alloc was given
}

// DefaultMaxAlloc is rsync's DEFAULT_MAX_ALLOC: 1 GiB.
const DefaultMaxAlloc = 1 << 30

// AllocLimit is the most one allocation sized by the peer may take:
// --max-alloc, else rsync's default.
func (o *LimitOptions) AllocLimit() int64 {
	if o.MaxAlloc == 0 {
		return DefaultMaxAlloc
	}
	return o.MaxAlloc
}

// applyLimit performs one of the options LimitOptions holds.
// rsync: options.c parse_arguments
func (p *parser) applyLimit(s *optSpec, val string) error {
	o := p.o
	switch s.id {
	case optBwLimit:
		n, err := parseSizeMin(val, 'K', "bwlimit", 512)
		if err != nil {
			err.(*UsageError).Server = o.Server
			return err
		}
		o.BwLimit = int((n + 512) / 1024)
	case optNoBwLimit:
		o.BwLimit = 0
	case optTimeout, optConTimeout:
		n, reason := parseCInt(val)
		if reason != "" {
			return p.fail("--"+s.long, reason)
		}
		if s.id == optTimeout {
			o.Timeout = n
		} else {
			o.ConTimeout = n
		}
	case optNoTimeout:
		o.Timeout = 0
	case optNoConTimeout:
		o.ConTimeout = 0
	case optStopAfter:
		// rsync: atol(arg) * 60 must be positive.
		mins := atol(val)
		if mins <= 0 || mins > math.MaxInt64/60/int64(time.Second) {
			return &UsageError{Reason: "invalid --stop-after value: " + val, Server: o.Server}
		}
		o.StopAt = time.Now().Add(time.Duration(mins*60) * time.Second).Truncate(time.Second)
	case optStopAt:
		t, ok := parseTime(val, time.Now())
		if !ok {
			return &UsageError{Reason: "invalid --stop-at format: " + val, Server: o.Server}
		}
		if !t.After(time.Now()) {
			return &UsageError{Reason: "--stop-at time is not in the future: " + val, Server: o.Server}
		}
		o.StopAt = t
	case optMaxAlloc:
		o.MaxAllocArg, o.maxAllocSeen = val, true
	case optBlockingIO:
		o.BlockingIO = On
	case optNoBlockingIO:
		o.BlockingIO = Off
	case optOldArgs:
		o.oldArgsSet = true
		if o.OldArgs <= 0 {
			o.OldArgs = 1
		} else {
			o.OldArgs++
		}
	case optNoOldArgs:
		o.oldArgsSet, o.OldArgs = true, 0
	case optSecludedArgs:
		o.secludedSet = On
	case optNoSecludedArgs:
		o.secludedSet = Off
	case optIconv:
		// gorsync converts no character sets, so it answers as an rsync
		// built without iconv does: the option is refused.
		// rsync: options.c create_refuse_error
		who := "This rsync"
		if o.Server {
			who = "The server"
		}
		return &UsageError{Reason: who + " does not support --iconv", Unsupported: true}
	case optNoIconv:
	}
	return nil
}

// limits finishes what the options above leave to after the option loop:
// $RSYNC_MAX_ALLOC, and the argument-quoting choice with
// $RSYNC_OLD_ARGS and $RSYNC_PROTECT_ARGS.
// rsync: options.c parse_arguments
func (p *parser) limits(env func(string) string) error {
	o := p.o
	if !o.maxAllocSeen {
		o.MaxAllocArg = env("RSYNC_MAX_ALLOC")
	}
	if o.MaxAllocArg != "" {
		n, err := parseSizeMin(o.MaxAllocArg, 'B', "max-alloc", 1<<20)
		if err != nil {
			err.(*UsageError).Server = o.Server
			return err
		}
		if n == 0 {
			return &UsageError{Reason: "max-alloc must be greater than zero", Server: o.Server}
		}
		o.MaxAlloc = n
	}
	switch {
	case !o.oldArgsSet:
		if v := env("RSYNC_OLD_ARGS"); !o.Server && o.secludedSet != On && v != "" {
			o.secludedSet = Off
			o.OldArgs = int(atol(v))
		}
	case o.OldArgs > 0:
		if o.secludedSet == On {
			return &UsageError{Reason: "--secluded-args conflicts with --old-args.", Server: o.Server}
		}
		o.secludedSet = Off
	}
	switch o.secludedSet {
	case On:
		o.SecludedArgs = true
	case Unset:
		// gorsync is built as rsync is by default, without
		// RSYNC_USE_SECLUDED_ARGS.
		if v := env("RSYNC_PROTECT_ARGS"); !o.Server && v != "" {
			o.SecludedArgs = atol(v) != 0
		}
	}
	return nil
}

// parseSizeMin is ParseSize with rsync's lower bound, where 0 stays
// allowed for "unlimited". rsync: options.c parse_size_arg (unlimited_0)
func parseSizeMin(arg string, defSuffix byte, opt string, minSize int64) (int64, error) {
	n, err := ParseSize(arg, defSuffix, opt)
	if err != nil {
		return 0, err
	}
	if n < minSize && n != 0 {
		return 0, &UsageError{Reason: fmt.Sprintf("--%s=%s is too small (min: %s or 0 for unlimited)", opt, arg, bigNum1024(minSize))}
	}
	return n, nil
}

// bigNum1024 renders n as rsync's do_big_num with human_flag 3 does:
// plain below 1024, else two decimals and a unit of powers of 1024.
func bigNum1024(n int64) string {
	if n < 1024 {
		return strconv.FormatInt(n, 10)
	}
	d := float64(n) / 1024
	for _, u := range "KMGT" {
		if d < 1024 {
			return fmt.Sprintf("%.2f%c", d, u)
		}
		d /= 1024
	}
	return fmt.Sprintf("%.2fP", d)
}

// atol is C's atol: leading blanks, a sign, digits; the rest ignored.
func atol(s string) int64 {
	s = strings.TrimLeft(s, " \t\n\v\f\r")
	neg := false
	if s != "" && (s[0] == '+' || s[0] == '-') {
		neg, s = s[0] == '-', s[1:]
	}
	var n int64
	for i := 0; i < len(s) && isDigit(s[i]); i++ {
		if n > (math.MaxInt64-9)/10 {
			n = math.MaxInt64
			break
		}
		n = n*10 + int64(s[i]-'0')
	}
	if neg {
		return -n
	}
	return n
}

// parseTime parses --stop-at's value in the local time zone:
// [YYYY-]MM-DD[Thh:mm] or [Thh:]mm forms, as rsync's parse_time reads
// them; a date or time left out is the next one after now.
// rsync: options.c parse_time
func parseTime(arg string, now time.Time) (time.Time, bool) {
	year, mon, mday, hour, min := -1, -1, -1, -1, -1
	cp := 0
	at := func(i int) byte {
		if i < len(arg) {
			return arg[i]
		}
		return 0
	}
	inDate := 1
	if c := at(0); c == 'T' || c == 't' || c == ':' {
		inDate = -1
		if c == ':' {
			inDate = 0
		}
		cp++
	}
	for ; ; cp++ {
		if !isDigit(at(cp)) {
			return time.Time{}, false
		}
		n := 0
		for isDigit(at(cp)) {
			if n > 1<<20 {
				return time.Time{}, false
			}
			n = n*10 + int(arg[cp]-'0')
			cp++
		}
		if at(cp) == ':' {
			inDate = 0
		}
		if inDate > 0 {
			if year != -1 {
				return time.Time{}, false
			}
			year, mon, mday = mon, mday, n
			if at(cp) == 0 {
				break
			}
			if c := at(cp); c == 'T' || c == 't' {
				if at(cp+1) == 0 {
					break
				}
				inDate = -1
			} else if c != '-' && c != '/' {
				return time.Time{}, false
			}
			continue
		}
		if hour != -1 {
			return time.Time{}, false
		}
		hour, min = min, n
		if at(cp) == 0 {
			if inDate < 0 {
				return time.Time{}, false
			}
			break
		}
		if at(cp) != ':' {
			return time.Time{}, false
		}
		inDate = 0
	}

	loc := now.Location()
	ty, tm, td := now.Date()
	inDate = 0
	switch {
	case year < 0:
		year, inDate = ty, 1
	case year < 100:
		year += 1900
		for year < ty {
			year += 100
		}
	}
	if mon < 0 {
		mon, inDate = int(tm), 2
	}
	if mday < 0 {
		mday, inDate = td, 3
	}
	step := time.Duration(0)
	switch {
	case min < 0:
		hour, min = 0, 0
	case hour < 0:
		if inDate != 3 {
			return time.Time{}, false
		}
		inDate, hour, step = 0, now.Hour(), time.Hour
	}
	if hour > 23 || min > 59 || mon < 1 || mon > 12 || mday < 1 || mday > 31 {
		return time.Time{}, false
	}
	// time.Date normalises an overflowing day into the next month, as
	// mktime does; the loop below undoes that as rsync does.
	oldMday := mday
	mk := func() time.Time { return time.Date(year, time.Month(mon), mday, hour, min, 0, 0, loc) }
	val := mk()
	for inDate != 0 && (!val.After(now) || val.Day() < oldMday) {
		switch inDate {
		case 3:
			mday++
			oldMday = mday
		case 2:
			if val.Day() < oldMday {
				mday = oldMday
			} else if mon++; mon == 13 {
				mon = 1
				year++
			}
		case 1:
			if val.Day() < oldMday {
				if val.Month() != 3 || oldMday != 29 {
					return time.Time{}, false
				}
				mon, mday = 2, 29
			}
			year++
		}
		val = mk()
		if inDate == 3 && val.Day() != mday {
			// The day ran past the month's end: the first of the next.
			year, mon, mday = val.Year(), int(val.Month()), 1
			oldMday, inDate = 1, 2
			val = mk()
		}
	}
	for step != 0 && !val.After(now) {
		val = val.Add(step)
	}
	return val, true
}

// limitArgs adds --timeout and --bwlimit, which both servers take.
// rsync: options.c server_options
func (o *Options) limitArgs(args []string) []string {
	if o.Timeout != 0 {
		args = append(args, "--timeout="+strconv.Itoa(o.Timeout))
	}
	if o.BwLimit != 0 {
		args = append(args, "--bwlimit="+strconv.Itoa(o.BwLimit))
	}
	return args
}

// maxAllocArg adds --max-alloc as given, unless it is the default.
// rsync: options.c server_options
func (o *Options) maxAllocArg(args []string) []string {
	if o.MaxAllocArg != "" && o.AllocLimit() != DefaultMaxAlloc {
		args = append(args, safeArg("--max-alloc", o.MaxAllocArg))
	}
	return args
}
