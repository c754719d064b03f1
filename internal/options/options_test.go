package options

import (
	"bytes"
	"errors"
	"os/exec"
	"reflect"
	"strings"
	"testing"
)

// defaults is what Parse yields for "src dst" with an empty environment.
func defaults() Options {
	return Options{HumanReadable: 1, RsyncPath: "rsync", Rsh: "ssh", Args: []string{"src", "dst"}}
}

func TestParse(t *testing.T) {
	tests := []struct {
		name string
		args []string
		env  map[string]string
		edit func(o *Options) // turns defaults() into the expected result
	}{
		{"no options", []string{"src", "dst"}, nil, func(o *Options) {}},
		{"archive expands to rlptgoD", []string{"-a", "src", "dst"}, nil, func(o *Options) {
			o.Archive, o.Recursive, o.Links, o.Perms, o.Times = true, true, true, true, true
			o.Group, o.Owner, o.Devices, o.Specials = true, true, true, true
		}},
		{"bundle", []string{"-rlptgoD", "src", "dst"}, nil, func(o *Options) {
			o.Recursive, o.Links, o.Perms, o.Times = true, true, true, true
			o.Group, o.Owner, o.Devices, o.Specials = true, true, true, true
		}},
		{"counted v", []string{"-vvv", "-v", "--verbose", "src", "dst"}, nil, func(o *Options) { o.Verbose = 5 }},
		{"no-v resets", []string{"-vv", "--no-v", "-v", "src", "dst"}, nil, func(o *Options) { o.Verbose = 1 }},
		{"no-verbose resets", []string{"-vv", "--no-verbose", "src", "dst"}, nil, func(o *Options) {}},
		{"counted q", []string{"-qq", "src", "dst"}, nil, func(o *Options) { o.Quiet = 2 }},
		{"P is partial progress", []string{"-P", "src", "dst"}, nil, func(o *Options) { o.Progress, o.ProgressNames, o.Partial = 1, true, true }},
		{"no-progress after P", []string{"-P", "--no-progress", "src", "dst"}, nil, func(o *Options) { o.Partial = true }},
		{"no-partial after P", []string{"-P", "--no-partial", "src", "dst"}, nil, func(o *Options) { o.Progress, o.ProgressNames = 1, true }},
		{"info progress2 beats progress", []string{"--info=progress2", "--progress", "src", "dst"}, nil, func(o *Options) { o.Progress, o.ProgressNames = 2, true }},
		{"info progress0 silences progress", []string{"--progress", "--info=PROGRESS0", "src", "dst"}, nil, func(o *Options) { o.ProgressNames = true }},
		{"info progress2 alone", []string{"--info=progress2", "src", "dst"}, nil, func(o *Options) { o.Progress = 2 }},
		{"counted h", []string{"-hh", "src", "dst"}, nil, func(o *Options) { o.HumanReadable = 3 }},
		{"no-h", []string{"-h", "--no-h", "src", "dst"}, nil, func(o *Options) { o.HumanReadable = 0 }},
		{"h with other args is not help", []string{"-h", "src", "dst"}, nil, func(o *Options) { o.HumanReadable = 2 }},
		{"a then no-p no-t", []string{"-a", "--no-p", "--no-t", "src", "dst"}, nil, func(o *Options) {
			o.Archive, o.Recursive, o.Links = true, true, true
			o.Group, o.Owner, o.Devices, o.Specials = true, true, true, true
		}},
		{"long negations", []string{"-a", "--no-perms", "--no-times", "--no-recursive", "--no-links", "--no-owner", "--no-group", "src", "dst"}, nil, func(o *Options) {
			o.Archive, o.Devices, o.Specials = true, true, true
		}},
		{"short negations", []string{"-a", "--no-r", "--no-l", "--no-o", "--no-g", "--no-D", "src", "dst"}, nil, func(o *Options) {
			o.Archive, o.Perms, o.Times = true, true, true
		}},
		{"D sets devices and specials", []string{"-D", "src", "dst"}, nil, func(o *Options) { o.Devices, o.Specials = true, true }},
		{"no-devices keeps specials", []string{"-D", "--no-devices", "src", "dst"}, nil, func(o *Options) { o.Specials = true }},
		{"no-specials keeps devices", []string{"-D", "--no-specials", "src", "dst"}, nil, func(o *Options) { o.Devices = true }},
		{"devices specials long", []string{"--devices", "--specials", "src", "dst"}, nil, func(o *Options) { o.Devices, o.Specials = true, true }},
		{"W", []string{"-W", "src", "dst"}, nil, func(o *Options) { o.WholeFile = On }},
		{"whole-file", []string{"--whole-file", "src", "dst"}, nil, func(o *Options) { o.WholeFile = On }},
		{"no-W", []string{"-W", "--no-W", "src", "dst"}, nil, func(o *Options) { o.WholeFile = Off }},
		{"no-whole-file", []string{"--no-whole-file", "src", "dst"}, nil, func(o *Options) { o.WholeFile = Off }},
		{"dirs", []string{"-d", "src", "dst"}, nil, func(o *Options) { o.Dirs = On }},
		{"no-dirs", []string{"--dirs", "--no-d", "src", "dst"}, nil, func(o *Options) { o.Dirs = Off }},
		{"flags", []string{"-ncI", "--size-only", "--stats", "--numeric-ids", "-8", "src", "dst"}, nil, func(o *Options) {
			o.DryRun, o.Checksum, o.IgnoreTimes, o.SizeOnly, o.Stats, o.NumericIDs, o.EightBit = true, true, true, true, true, true, true
		}},
		{"long flags", []string{"--dry-run", "--checksum", "--ignore-times", "--8-bit-output", "src", "dst"}, nil, func(o *Options) {
			o.DryRun, o.Checksum, o.IgnoreTimes, o.EightBit = true, true, true, true
		}},
		{"no-c no-8 no-numeric-ids", []string{"-c8", "--numeric-ids", "--no-c", "--no-8", "--no-numeric-ids", "src", "dst"}, nil, func(o *Options) {}},
		{"e separate", []string{"-e", "ssh -p 22", "src", "dst"}, nil, func(o *Options) { o.Rsh, o.RshSet = "ssh -p 22", true }},
		{"e attached", []string{"-essh", "src", "dst"}, nil, func(o *Options) { o.Rsh, o.RshSet = "ssh", true }},
		{"e attached with equals", []string{"-e=rsh", "src", "dst"}, nil, func(o *Options) { o.Rsh, o.RshSet = "rsh", true }},
		{"e ends a bundle", []string{"-ave", "rsh", "src", "dst"}, nil, func(o *Options) {
			o.Archive, o.Recursive, o.Links, o.Perms, o.Times = true, true, true, true, true
			o.Group, o.Owner, o.Devices, o.Specials = true, true, true, true
			o.Verbose, o.Rsh, o.RshSet = 1, "rsh", true
		}},
		{"e takes a dash value", []string{"-e", "-v", "src", "dst"}, nil, func(o *Options) { o.Rsh, o.RshSet = "-v", true }},
		{"rsh equals", []string{"--rsh=ssh -x", "src", "dst"}, nil, func(o *Options) { o.Rsh, o.RshSet = "ssh -x", true }},
		{"rsh separate", []string{"--rsh", "rsh", "src", "dst"}, nil, func(o *Options) { o.Rsh, o.RshSet = "rsh", true }},
		{"RSYNC_RSH default", []string{"src", "dst"}, map[string]string{"RSYNC_RSH": "rsh -l me"}, func(o *Options) { o.Rsh = "rsh -l me" }},
		{"e beats RSYNC_RSH", []string{"-e", "ssh", "src", "dst"}, map[string]string{"RSYNC_RSH": "rsh"}, func(o *Options) { o.Rsh, o.RshSet = "ssh", true }},
		{"rsync-path", []string{"--rsync-path=/opt/rsync", "src", "dst"}, nil, func(o *Options) { o.RsyncPath = "/opt/rsync" }},
		{"rsync-path separate", []string{"--rsync-path", "sudo rsync", "src", "dst"}, nil, func(o *Options) { o.RsyncPath = "sudo rsync" }},
		{"protocol", []string{"--protocol=29", "src", "dst"}, nil, func(o *Options) { o.Protocol = 29 }},
		{"protocol separate", []string{"--protocol", "30", "src", "dst"}, nil, func(o *Options) { o.Protocol = 30 }},
		{"protocol hex", []string{"--protocol=0x1e", "src", "dst"}, nil, func(o *Options) { o.Protocol = 30 }},
		{"protocol octal", []string{"--protocol=036", "src", "dst"}, nil, func(o *Options) { o.Protocol = 30 }},
		{"protocol blanks", []string{"--protocol= 31", "src", "dst"}, nil, func(o *Options) { o.Protocol = 31 }},
		{"checksum-choice", []string{"--checksum-choice=md5", "src", "dst"}, nil, func(o *Options) { o.ChecksumChoice = "md5" }},
		{"cc pair", []string{"--cc", "xxh128,MD4", "src", "dst"}, nil, func(o *Options) { o.ChecksumChoice = "xxh128,MD4" }},
		{"cc auto dropped", []string{"--cc=AUTO", "src", "dst"}, nil, func(o *Options) {}},
		{"cc auto,auto dropped", []string{"--cc=auto,Auto", "src", "dst"}, nil, func(o *Options) {}},
		{"cc none forces whole-file", []string{"--no-W", "--cc=none", "src", "dst"}, nil, func(o *Options) {
			o.ChecksumChoice, o.WholeFile = "none", On
		}},
		{"options after args", []string{"src", "-v", "dst", "-r"}, nil, func(o *Options) { o.Verbose, o.Recursive = 1, true }},
		{"double dash ends options", []string{"-v", "--", "-r", "dst"}, nil, func(o *Options) { o.Verbose, o.Args = 1, []string{"-r", "dst"} }},
		{"lone dash is an argument", []string{"-", "dst"}, nil, func(o *Options) { o.Args = []string{"-", "dst"} }},
		{"one arg lists", []string{"host:src"}, nil, func(o *Options) { o.Args, o.ListOnly = []string{"host:src"}, true }},
		{"help", []string{"--help", "--frobnicate"}, nil, func(o *Options) { o.Help, o.Args = true, nil; o.Rsh = "" }},
		{"h alone is help", []string{"-h"}, nil, func(o *Options) { o.Help, o.Args, o.HumanReadable = true, nil, 2; o.Rsh = "" }},
		{"h bundle alone is help", []string{"-vh"}, nil, func(o *Options) { o.Help, o.Args, o.HumanReadable, o.Verbose = true, nil, 2, 1; o.Rsh = "" }},
		{"version", []string{"-V", "--cc=bogus", "--version"}, nil, func(o *Options) {
			o.Version, o.ChecksumChoice, o.Args, o.Rsh = 2, "bogus", nil, ""
		}},
		{"server", []string{"--server", "-vlogDtpre.iLsfxCIvu", "--numeric-ids", ".", "dst"}, nil, func(o *Options) {
			o.Server, o.Verbose, o.Links, o.Owner, o.Group = true, 1, true, true, true
			o.Devices, o.Specials, o.Times, o.Perms, o.Recursive, o.NumericIDs = true, true, true, true, true, true
			o.ClientInfo, o.Rsh, o.Args = ".iLsfxCIvu", "", []string{".", "dst"}
		}},
		{"server sender", []string{"--server", "--sender", "-de.LsfxCIvu", "--checksum-choice=md5", ".", "src/"}, nil, func(o *Options) {
			o.Server, o.Sender, o.Dirs, o.ChecksumChoice = true, true, On, "md5"
			o.ClientInfo, o.Rsh, o.Args = ".LsfxCIvu", "", []string{".", "src/"}
		}},
		{"server h is not help", []string{"--server", "-h"}, nil, func(o *Options) {
			o.Server, o.HumanReadable, o.Rsh, o.Args = true, 2, "", nil
		}},
		// rsync restarts its parse at --server, so an earlier -v counts twice.
		{"server restart", []string{"-v", "--server", ".", "dst"}, nil, func(o *Options) {
			o.Server, o.Verbose, o.Rsh, o.Args = true, 2, "", []string{".", "dst"}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse(tt.args, func(k string) string { return tt.env[k] })
			if err != nil {
				t.Fatalf("Parse(%q): %v", tt.args, err)
			}
			want := defaults()
			tt.edit(&want)
			if !reflect.DeepEqual(*got, want) {
				t.Errorf("Parse(%q):\n got %+v\nwant %+v", tt.args, *got, want)
			}
		})
	}
}

// Messages checked against upstream rsync 3.5.0 by hand and, where rsync
// is installed, by TestParseErrorsMatchUpstream.
var usageErrorTests = []struct {
	args []string
	want string
}{
	{[]string{"--frobnicate", "a", "b"}, "rsync: --frobnicate: unknown option"},
	{[]string{"--frobnicate=3", "a", "b"}, "rsync: --frobnicate=3: unknown option"},
	{[]string{"-j", "a", "b"}, "rsync: -j: unknown option"},
	{[]string{"-vj", "a", "b"}, "rsync: -vj: unknown option"},
	{[]string{"-a-", "a", "b"}, "rsync: -a-: unknown option"},
	{[]string{"--=x", "a", "b"}, "rsync: --=x: unknown option"},
	{[]string{"---x", "a", "b"}, "rsync: ---x: unknown option"},
	{[]string{"--verb", "a", "b"}, "rsync: --verb: unknown option"},
	{[]string{"--no-stats", "a", "b"}, "rsync: --no-stats: unknown option"},
	{[]string{"-e"}, "rsync: -e: missing argument"},
	{[]string{"-ve"}, "rsync: -ve: missing argument"},
	{[]string{"--rsh"}, "rsync: --rsh: missing argument"},
	{[]string{"--cc"}, "rsync: --cc: missing argument"},
	{[]string{"--stats=3", "a", "b"}, "rsync: --stats=3: option does not take an argument"},
	{[]string{"--no-W=1", "a", "b"}, "rsync: --no-W=1: option does not take an argument"},
	{[]string{"-v=3", "a", "b"}, "rsync: -v=3: option does not take an argument"},
	{[]string{"-D=1", "a", "b"}, "rsync: -D=1: option does not take an argument"},
	{[]string{"--protocol=abc", "a", "b"}, "rsync: --protocol=abc: invalid numeric value"},
	{[]string{"--protocol=1x", "a", "b"}, "rsync: --protocol=1x: invalid numeric value"},
	{[]string{"--protocol", "a", "b"}, "rsync: a: invalid numeric value"},
	{[]string{"--protocol=99999999999", "a", "b"}, "rsync: --protocol=99999999999: number too large or too small"},
	{[]string{"--frobnicate", "--help"}, "rsync: --frobnicate: unknown option"},
	{[]string{"-V", "--frobnicate"}, "rsync: --frobnicate: unknown option"},
	{[]string{"--server", "--frobnicate", ".", "x"}, "rsync: on remote machine: --frobnicate: unknown option"},
	{[]string{"--server", "-vj", ".", "x"}, "rsync: on remote machine: -vj: unknown option"},
	{[]string{"--server", "--protocol=x", ".", "x"}, "rsync: on remote machine: --protocol=x: invalid numeric value"},
	{[]string{"-v", "--server", "--no-such", ".", "x"}, "rsync: on remote machine: --no-such: unknown option"},
	{[]string{"--no-such", "--server", ".", "x"}, "rsync: --no-such: unknown option"},
}

func TestParseUsageErrors(t *testing.T) {
	for _, tt := range usageErrorTests {
		_, err := Parse(tt.args, nil)
		var ue *UsageError
		if !errors.As(err, &ue) {
			t.Errorf("Parse(%q) = %v, want a *UsageError", tt.args, err)
			continue
		}
		if got := err.Error(); got != tt.want {
			t.Errorf("Parse(%q) error = %q, want %q", tt.args, got, tt.want)
		}
		if ue.Unsupported || ue.ExitCode() != 1 {
			t.Errorf("Parse(%q): Unsupported=%v ExitCode=%d", tt.args, ue.Unsupported, ue.ExitCode())
		}
	}
}

// TestParseErrorsMatchUpstream runs the installed upstream rsync on the same
// bad command lines and compares the first line it prints.
func TestParseErrorsMatchUpstream(t *testing.T) {
	rsync, err := exec.LookPath("rsync")
	if err != nil {
		t.Skip("upstream rsync not installed")
	}
	for _, tt := range usageErrorTests {
		cmd := exec.Command(rsync, tt.args...)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		cmd.Env = []string{"PATH=/usr/bin:/bin"}
		runErr := cmd.Run()
		var ee *exec.ExitError
		if !errors.As(runErr, &ee) || ee.ExitCode() != 1 {
			t.Errorf("rsync %q: %v, want exit code 1", tt.args, runErr)
		}
		first, _, _ := strings.Cut(stderr.String(), "\n")
		if first != tt.want {
			t.Errorf("rsync %q printed %q; test expects %q", tt.args, first, tt.want)
		}
	}
}

func TestParseRejectsUnsupported(t *testing.T) {
	tests := []struct {
		args []string
		want string // the option named in the error
	}{
		{[]string{"-avH", "a", "b"}, "-H"},
		{[]string{"-H", "a", "b"}, "-H"},
		{[]string{"-A", "a", "b"}, "-A"},
		{[]string{"-X", "a", "b"}, "-X"},
		{[]string{"-S", "a", "b"}, "-S"},
		{[]string{"-i", "a", "b"}, "-i"},
		{[]string{"-b", "a", "b"}, "-b"},
		{[]string{"-T/tmp", "a", "b"}, "-T"},
		{[]string{"--inplace", "a", "b"}, "--inplace"},
		{[]string{"--partial-dir=.p", "a", "b"}, "--partial-dir"},
		{[]string{"--info=progress2,name", "a", "b"}, "--info=name"},
		{[]string{"--info=name", "a", "b"}, "--info=name"},
		{[]string{"--out-format=%n", "a", "b"}, "--out-format"},
		{[]string{"--bwlimit=1m", "a", "b"}, "--bwlimit"},
		{[]string{"--link-dest=../x", "a", "b"}, "--link-dest"},
		{[]string{"--daemon"}, "--daemon"},
		{[]string{"--config=/etc/rsyncd.conf", "--daemon"}, "--config"},
		{[]string{"--server", "-logDtprHe.iLsfxCIvu", ".", "x"}, "-H"},
	}
	for _, tt := range tests {
		_, err := Parse(tt.args, nil)
		var ue *UsageError
		if !errors.As(err, &ue) || !ue.Unsupported {
			t.Errorf("Parse(%q) = %v, want an unsupported-option error", tt.args, err)
			continue
		}
		if ue.Option != tt.want || ue.ExitCode() != 1 {
			t.Errorf("Parse(%q): option %q exit %d, want %q exit 1", tt.args, ue.Option, ue.ExitCode(), tt.want)
		}
		if !strings.Contains(err.Error(), tt.want+": option not supported") {
			t.Errorf("Parse(%q) error = %q", tt.args, err)
		}
	}
}

func TestSenderWithoutServerShowsUsage(t *testing.T) {
	_, err := Parse([]string{"--sender", "a", "b"}, nil)
	var ue *UsageError
	if !errors.As(err, &ue) || !ue.ShowUsage || ue.ExitCode() != 1 {
		t.Fatalf("Parse(--sender a b) = %v, want a usage error that shows usage", err)
	}
}

func TestParseChecksumChoiceErrors(t *testing.T) {
	tests := []struct {
		arg  string
		want string
	}{
		{"foo", "unknown checksum name: foo"},
		{"md5,foo", "unknown checksum name: foo"},
		{"foo,md5", "unknown checksum name: foo,md5"},
		{"md5,md5,md5", "unknown checksum name: md5,md5"},
		{"", "unknown checksum name: "},
		{",", "unknown checksum name: ,"},
		{"md5,", "unknown checksum name: "},
	}
	for _, tt := range tests {
		_, err := Parse([]string{"--checksum-choice=" + tt.arg, "a", "b"}, nil)
		var ce *ChecksumChoiceError
		if !errors.As(err, &ce) {
			t.Errorf("--cc=%q: %v, want a *ChecksumChoiceError", tt.arg, err)
			continue
		}
		if err.Error() != tt.want || ce.ExitCode() != 4 {
			t.Errorf("--cc=%q: %q exit %d, want %q exit 4", tt.arg, err, ce.ExitCode(), tt.want)
		}
	}
}

func TestParseChecksumChoice(t *testing.T) {
	tests := []struct {
		in, xfer, file string
	}{
		{"md5", "md5", "md5"},
		{"XXH128", "xxh128", "xxh128"},
		{"xxhash", "xxh64", "xxh64"},
		{"xxh3,sha1", "xxh3", "sha1"},
		{"auto,md4", "auto", "md4"},
		{"none,MD5", "none", "md5"},
	}
	for _, tt := range tests {
		xfer, file, err := ParseChecksumChoice(tt.in)
		if err != nil || xfer != tt.xfer || file != tt.file {
			t.Errorf("ParseChecksumChoice(%q) = %q, %q, %v; want %q, %q", tt.in, xfer, file, err, tt.xfer, tt.file)
		}
	}
}

func TestParseCInt(t *testing.T) {
	tests := []struct {
		in     string
		want   int
		reason string
	}{
		{"30", 30, ""},
		{"", 0, ""},
		{"0", 0, ""},
		{"-1", -1, ""},
		{"+7", 7, ""},
		{"0x1F", 31, ""},
		{"010", 8, ""},
		{" \t29", 29, ""},
		{"2147483647", 2147483647, ""},
		{"-2147483648", -2147483648, ""},
		{"2147483648", 0, reasonOverflow},
		{"99999999999999999999", 0, reasonOverflow},
		{"99999999999999999999x", 0, reasonBadNumber},
		{"08", 0, reasonBadNumber},
		{"0x", 0, reasonBadNumber},
		{"30 ", 0, reasonBadNumber},
		{" ", 0, reasonBadNumber},
		{"-", 0, reasonBadNumber},
		{"abc", 0, reasonBadNumber},
	}
	for _, tt := range tests {
		got, reason := parseCInt(tt.in)
		if got != tt.want || reason != tt.reason {
			t.Errorf("parseCInt(%q) = %d, %q; want %d, %q", tt.in, got, reason, tt.want, tt.reason)
		}
	}
}

func TestTransferDirs(t *testing.T) {
	tests := []struct {
		args []string
		want bool
	}{
		{[]string{"a", "b"}, false},
		{[]string{"-r", "a", "b"}, true},
		{[]string{"-d", "a", "b"}, true},
		{[]string{"host:a"}, true},
		{[]string{"--no-d", "host:a"}, false},
	}
	for _, tt := range tests {
		o, err := Parse(tt.args, nil)
		if err != nil {
			t.Fatal(err)
		}
		if got := o.TransferDirs(); got != tt.want {
			t.Errorf("Parse(%q).TransferDirs() = %v, want %v", tt.args, got, tt.want)
		}
	}
}

func TestUsageListsImplementedOptions(t *testing.T) {
	u := Usage()
	for _, s := range table {
		if s.id == optUnsupported || s.id == optDaemon || s.id == optServer || s.id == optSender || s.id == optLogFormat {
			continue
		}
		if s.long == "" || strings.HasPrefix(s.long, "no-") || s.long == "cc" {
			continue
		}
		if !strings.Contains(u, "--"+s.long) {
			t.Errorf("Usage() does not mention --%s", s.long)
		}
	}
}

func TestTableHasNoDuplicates(t *testing.T) {
	longs := map[string]bool{}
	shorts := map[byte]bool{}
	for _, s := range table {
		if s.long != "" && longs[s.long] {
			t.Errorf("duplicate --%s", s.long)
		}
		if s.short != 0 && shorts[s.short] {
			t.Errorf("duplicate -%c", s.short)
		}
		longs[s.long], shorts[s.short] = true, true
	}
}

// TestPartialDirFromEnvironmentRefused: rsync's --partial takes its
// directory from RSYNC_PARTIAL_DIR, which gorsync does not implement, so
// it refuses instead of keeping the file elsewhere than asked.
func TestPartialDirFromEnvironmentRefused(t *testing.T) {
	env := func(k string) string {
		if k == "RSYNC_PARTIAL_DIR" {
			return ".rsync-partial"
		}
		return ""
	}
	_, err := Parse([]string{"-P", "a", "b"}, env)
	var ue *UsageError
	if !errors.As(err, &ue) || !ue.Unsupported || ue.Option != "--partial-dir" {
		t.Errorf("Parse(-P) with RSYNC_PARTIAL_DIR = %v, want --partial-dir refused", err)
	}
	if _, err := Parse([]string{"--progress", "a", "b"}, env); err != nil {
		t.Errorf("Parse(--progress) with RSYNC_PARTIAL_DIR: %v", err)
	}
}
