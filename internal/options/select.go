package options

import (
	"math"
	"strconv"
	"strings"
)

// applySelect performs the options that choose, on the receiving side,
// which files are updated, and the listing and path options that go with
// them. rsync: options.c parse_arguments
func (p *parser) applySelect(s *optSpec, val string) error {
	o := p.o
	switch s.id {
	case optMaxSize, optMinSize:
		name := "max-size"
		if s.id == optMinSize {
			name = "min-size"
		}
		n, err := ParseSize(val, 'b', name)
		if err != nil {
			err.(*UsageError).Server = o.Server
			return err
		}
		arg := strconv.FormatInt(n, 10)
		if s.id == optMaxSize {
			o.MaxSize, o.MaxSizeArg = n, arg
		} else {
			o.MinSize, o.MinSizeArg = n, arg
		}
	case optExisting:
		o.Existing = true
	case optIgnoreExisting:
		o.IgnoreExisting = true
	case optUpdate:
		o.Update = true
	case optModifyWindow:
		n, reason := parseCInt(val)
		if reason != "" {
			return p.fail("--modify-window", reason)
		}
		o.ModifyWindow, o.ModifyWindowSet = n, true
	case optRemoveSourceFiles:
		o.RemoveSource = RemoveSourceFiles
	case optRemoveSentFiles:
		o.RemoveSource = RemoveSentFiles
	case optListOnly:
		o.ListOnlyOpt = true
	case optMkpath, optNoMkpath:
		o.Mkpath = s.id == optMkpath
	}
	return nil
}

// SizeLimits returns --max-size and --min-size in bytes, -1 for a limit
// not given.
func (o *Options) SizeLimits() (maxSize, minSize int64) {
	maxSize, minSize = -1, -1
	if o.MaxSizeArg != "" {
		maxSize = o.MaxSize
	}
	if o.MinSizeArg != "" {
		minSize = o.MinSize
	}
	return maxSize, minSize
}

// ParseSize parses a size option's value with rsync's grammar: a decimal
// number (a fraction allowed), an optional unit letter (B, K, M, G, T, P;
// defSuffix when absent), "B" after the unit for powers of 1000 or "iB"
// (or nothing) for powers of 1024, and an optional "+1" or "-1" to nudge
// the result by one byte. opt names the option in the error message.
// rsync: options.c parse_size_arg (with no minimum and no maximum)
func ParseSize(arg string, defSuffix byte, opt string) (int64, error) {
	const sizeMax = math.MaxInt64 // rsync's SIZE_MAX / 2
	fail := func(why string) error {
		return &UsageError{Reason: "--" + opt + "=" + arg + " is " + why}
	}
	i := 0
	for i < len(arg) && isDigit(arg[i]) {
		i++
	}
	if i < len(arg) && arg[i] == '.' {
		for i++; i < len(arg) && isDigit(arg[i]); i++ {
		}
	}
	suffix := defSuffix
	if i < len(arg) && arg[i] != '+' && arg[i] != '-' {
		suffix = arg[i]
		i++
	}
	reps := strings.IndexByte("bkmgtp", lower(suffix))
	if reps < 0 {
		return 0, fail("invalid")
	}
	rest := arg[i:]
	var mult int64
	switch {
	case strings.HasPrefix(rest, "b") || strings.HasPrefix(rest, "B"):
		mult, rest = 1000, rest[1:]
	case rest == "" || rest[0] == '+' || rest[0] == '-':
		mult = 1024
	case len(rest) >= 2 && strings.EqualFold(rest[:2], "ib"):
		mult, rest = 1024, rest[2:]
	default:
		return 0, fail("invalid")
	}
	size := int64(1)
	for range reps {
		if size > sizeMax/mult {
			return 0, fail("too large")
		}
		size *= mult
	}
	// strtod over the whole argument reads just the number at its start.
	d := strtodPrefix(arg)
	if d < 0 || d > float64(sizeMax)/float64(size) || d >= float64(sizeMax)/float64(size) {
		return 0, fail("too large")
	}
	size = int64(d * float64(size))
	if len(rest) >= 2 && (rest[0] == '+' || rest[0] == '-') && rest[1] == '1' && len(rest) != len(arg) {
		if rest[0] == '+' {
			if size == sizeMax {
				return 0, fail("too large")
			}
			size++
		} else {
			size--
		}
		rest = rest[2:]
	}
	if rest != "" {
		return 0, fail("invalid")
	}
	if size < 0 {
		return 0, fail("too large")
	}
	return size, nil
}

// strtodPrefix is C's strtod for the strings ParseSize accepts: an
// optional sign, digits, an optional fraction; 0 when there is no number.
func strtodPrefix(s string) float64 {
	i := 0
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		i++
	}
	for i < len(s) && isDigit(s[i]) {
		i++
	}
	if i < len(s) && s[i] == '.' {
		for i++; i < len(s) && isDigit(s[i]); i++ {
		}
	}
	d, err := strconv.ParseFloat(s[:i], 64)
	if err != nil {
		return 0
	}
	return d
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func lower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// sizeArgs adds --min-size and --max-size for a receiving server.
// rsync: options.c server_options
func (o *Options) sizeArgs(args []string) []string {
	if o.MinSizeArg != "" {
		args = append(args, safeArg("--min-size", o.MinSizeArg))
	}
	if o.MaxSizeArg != "" {
		args = append(args, safeArg("--max-size", o.MaxSizeArg))
	}
	return args
}

// modifyWindowArg adds --modify-window (or -@ for a negative window) for a
// receiving server. rsync: options.c server_options
func (o *Options) modifyWindowArg(args []string, localSender bool) []string {
	if !o.ModifyWindowSet || !localSender {
		return args
	}
	if o.ModifyWindow < 0 {
		return append(args, "-@"+strconv.Itoa(o.ModifyWindow))
	}
	return append(args, "--modify-window="+strconv.Itoa(o.ModifyWindow))
}

// existingArgs adds --ignore-existing and --existing (never its newer name
// --ignore-non-existing) for a receiving server. rsync: options.c
// server_options
func (o *Options) existingArgs(args []string, localSender bool) []string {
	if !localSender {
		return args
	}
	if o.IgnoreExisting {
		args = append(args, "--ignore-existing")
	}
	if o.Existing {
		args = append(args, "--existing")
	}
	return args
}

// removeSourceArgs adds --remove-source-files or --remove-sent-files,
// which both roles need, and --mkpath for a receiving server.
// rsync: options.c server_options
func (o *Options) removeSourceArgs(args []string, localSender bool) []string {
	switch o.RemoveSource {
	case RemoveSourceFiles:
		args = append(args, "--remove-source-files")
	case RemoveSentFiles:
		args = append(args, "--remove-sent-files")
	}
	if o.Mkpath && localSender {
		args = append(args, "--mkpath")
	}
	return args
}
