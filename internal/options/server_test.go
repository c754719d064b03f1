package options

import (
	"bufio"
	"os"
	"reflect"
	"strings"
	"testing"
)

// serverArgsCase is one line of testdata/server_args.txt, captured from
// upstream rsync by testdata/capture-server-args.sh.
type serverArgsCase struct {
	dir  string // push, pull or list
	opts []string
	path string   // the remote path
	want []string // remote argv after the program name
}

func loadServerArgs(t *testing.T) []serverArgsCase {
	t.Helper()
	f, err := os.Open("testdata/server_args.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var cases []serverArgsCase
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fields := strings.Split(line, "\t")
		if len(fields) < 4 {
			t.Fatalf("malformed line %q", line)
		}
		cases = append(cases, serverArgsCase{
			dir:  fields[0],
			opts: strings.Fields(fields[1]),
			path: fields[2],
			want: fields[3:],
		})
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(cases) == 0 {
		t.Fatal("no cases")
	}
	return cases
}

// clientArgs rebuilds the client command line the capture script ran.
func (c serverArgsCase) clientArgs() (args []string, localSender bool) {
	args = append(args, c.opts...)
	switch c.dir {
	case "push":
		return append(args, "src/", "localhost:"+c.path), true
	case "pull":
		return append(args, "localhost:"+c.path, "dst"), false
	default: // list
		return append(args, "localhost:"+c.path), false
	}
}

// clientInfo takes the capability string upstream sent, so the test checks
// where and when it is sent, not which letters the lead chose.
func clientInfo(argv []string) string {
	for _, a := range argv {
		if len(a) > 1 && a[0] == '-' && a[1] != '-' {
			if i := strings.IndexByte(a, 'e'); i >= 0 {
				return a[i+1:]
			}
		}
	}
	return ".LsfxCIvu" // a protocol below 30 must drop it
}

func TestRemoteArgsMatchUpstream(t *testing.T) {
	for _, c := range loadServerArgs(t) {
		args, localSender := c.clientArgs()
		t.Run(c.dir+" "+strings.Join(c.opts, " ")+" "+c.path, func(t *testing.T) {
			o, err := Parse(args, nil)
			if err != nil {
				t.Fatalf("Parse(%q): %v", args, err)
			}
			got := o.RemoteArgs(localSender, clientInfo(c.want), []string{c.path})
			if !reflect.DeepEqual(got, c.want) {
				t.Errorf("RemoteArgs for %q:\n got %q\nwant %q", args, got, c.want)
			}
		})
	}
}

// TestServerArgsRoundTrip parses what upstream rsync sends as a server would
// and checks the result agrees with the client's options for everything the
// server is told.
func TestServerArgsRoundTrip(t *testing.T) {
	for _, c := range loadServerArgs(t) {
		args, localSender := c.clientArgs()
		t.Run(c.dir+" "+strings.Join(c.opts, " ")+" "+c.path, func(t *testing.T) {
			cl, err := Parse(args, nil)
			if err != nil {
				t.Fatal(err)
			}
			caps := clientInfo(c.want)
			sv, err := Parse(cl.RemoteArgs(localSender, caps, []string{c.path}), nil)
			if err != nil {
				t.Fatalf("server Parse: %v", err)
			}
			want := Options{
				Verbose:        min(cl.Verbose, 9),
				Quiet:          min(cl.Quiet, 1),
				Recursive:      cl.Recursive,
				Links:          cl.Links,
				Perms:          cl.Perms,
				Times:          cl.Times,
				Group:          cl.Group,
				Owner:          cl.Owner,
				Devices:        cl.Devices,
				Specials:       cl.Specials,
				DryRun:         cl.DryRun,
				Checksum:       cl.Checksum,
				IgnoreTimes:    cl.IgnoreTimes,
				NumericIDs:     cl.NumericIDs,
				ChecksumChoice: cl.ChecksumChoice,
				SizeOnly:       cl.SizeOnly && localSender,
				Stats:          cl.Stats && localSender,
				Sender:         !localSender,
				Server:         true,
			}
			if cl.Msgs2Stderr == StderrClient {
				want.Quiet = 0 // rsync: -q travels only while the server may print
			}
			if cl.WholeFile == On {
				want.WholeFile = On
			}
			if cl.sendDirs() {
				want.Dirs = On
			}
			if cl.Protocol == 0 || cl.Protocol >= 30 {
				want.ClientInfo = caps
			}
			got := Options{
				Verbose: sv.Verbose, Quiet: sv.Quiet, Recursive: sv.Recursive,
				Dirs: sv.Dirs, Links: sv.Links, Perms: sv.Perms, Times: sv.Times,
				Group: sv.Group, Owner: sv.Owner, Devices: sv.Devices,
				Specials: sv.Specials, WholeFile: sv.WholeFile, DryRun: sv.DryRun,
				Checksum: sv.Checksum, IgnoreTimes: sv.IgnoreTimes,
				NumericIDs: sv.NumericIDs, ChecksumChoice: sv.ChecksumChoice,
				SizeOnly: sv.SizeOnly, Stats: sv.Stats, Sender: sv.Sender,
				Server: sv.Server, ClientInfo: sv.ClientInfo,
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("server view differs:\n got %+v\nwant %+v", got, want)
			}
			if len(sv.Args) != 2 || sv.Args[0] != "." {
				t.Errorf("server Args = %q, want [. path]", sv.Args)
			}
		})
	}
}

func TestQuotePath(t *testing.T) {
	tests := []struct {
		path        string
		localSender bool
		want        string
	}{
		{"plain/path", false, "plain/path"},
		{"a b", false, `a\ b`},
		{"~", false, `\~`},
		{"~", true, "~"},
		{"~user", false, `\~user`},
		{"~/x", false, "~/x"},
		{"-rf", false, "./-rf"},
		{`a\*b`, false, `a\*b`},
		{`a\b`, false, `a\\b`},
		{`a\`, false, `a\\`},
		{"x*?[]", false, "x*?[]"},
		{"a\tb\nc\rd", false, "a\\\tb\\\nc\\\rd"},
		{"!#$&;|<>(){}\"'`", false, "\\!\\#\\$\\&\\;\\|\\<\\>\\(\\)\\{\\}\\\"\\'\\`"},
	}
	for _, tt := range tests {
		if got := QuotePath(tt.path, tt.localSender); got != tt.want {
			t.Errorf("QuotePath(%q, %v) = %q, want %q", tt.path, tt.localSender, got, tt.want)
		}
	}
}

func TestSafeArgEscapesWildcards(t *testing.T) {
	if got, want := safeArg("--x", `a*b c\`), `--x=a\*b\ c\\`; got != want {
		t.Errorf("safeArg = %q, want %q", got, want)
	}
}
