package options

import (
	"os/exec"
	"testing"
)

// TestOutputHelpMatchesUpstream compares --info=help and --debug=help with
// upstream rsync's text, which lists the flags and the levels -v implies.
func TestOutputHelpMatchesUpstream(t *testing.T) {
	rsync, err := exec.LookPath("rsync")
	if err != nil {
		t.Skip("no upstream rsync")
	}
	for _, arg := range []string{"--info=help", "--debug=help", "--info=name,HELP", "--debug=all2,help,bogus"} {
		want, err := exec.Command(rsync, arg).Output()
		if err != nil {
			t.Fatalf("rsync %s: %v", arg, err)
		}
		o, err := Parse([]string{arg}, nil)
		if err != nil {
			t.Fatalf("Parse(%s): %v", arg, err)
		}
		if o.OutputHelp != string(want) {
			t.Errorf("%s:\n got %q\nwant %q", arg, o.OutputHelp, want)
		}
	}
}

// TestOutputLevels checks the levels -v, --stats, --info and --progress
// leave, per rsync's info_verbosity table and priorities.
func TestOutputLevels(t *testing.T) {
	type lv = map[InfoFlag]int8
	tests := []struct {
		args []string
		want lv
	}{
		{nil, lv{InfoNonreg: 1}},
		{[]string{"-v"}, lv{InfoNonreg: 1, InfoCopy: 1, InfoDel: 1, InfoFlist: 1, InfoMisc: 1, InfoName: 1, InfoStats: 1, InfoSymsafe: 1}},
		{[]string{"-vv"}, lv{InfoNonreg: 1, InfoCopy: 1, InfoDel: 1, InfoFlist: 1, InfoMisc: 2, InfoName: 2, InfoStats: 1, InfoSymsafe: 1,
			InfoBackup: 1, InfoMount: 1, InfoRemove: 1, InfoSkip: 1}},
		{[]string{"--stats"}, lv{InfoNonreg: 1, InfoStats: 2}},
		{[]string{"--stats", "-vv"}, lv{InfoNonreg: 1, InfoCopy: 1, InfoDel: 1, InfoFlist: 1, InfoMisc: 2, InfoName: 2, InfoStats: 3, InfoSymsafe: 1,
			InfoBackup: 1, InfoMount: 1, InfoRemove: 1, InfoSkip: 1}},
		// What --info says wins over -v and --stats, in either order.
		{[]string{"--info=name0,stats0", "-v", "--stats"}, lv{InfoNonreg: 1, InfoCopy: 1, InfoDel: 1, InfoFlist: 1, InfoMisc: 1, InfoSymsafe: 1}},
		{[]string{"--info=none"}, lv{}},
		{[]string{"--info=ALL9"}, lv{InfoBackup: 4, InfoCopy: 4, InfoDel: 4, InfoFlist: 4, InfoMisc: 4, InfoMount: 4, InfoName: 4,
			InfoNonreg: 4, InfoProgress: 4, InfoRemove: 4, InfoSkip: 4, InfoStats: 4, InfoSymsafe: 4}},
		{[]string{"--info=all,nonreg0,name2"}, lv{InfoBackup: 1, InfoCopy: 1, InfoDel: 1, InfoFlist: 1, InfoMisc: 1, InfoMount: 1, InfoName: 2,
			InfoProgress: 1, InfoRemove: 1, InfoSkip: 1, InfoStats: 1, InfoSymsafe: 1}},
		{[]string{"--info=progress2"}, lv{InfoNonreg: 1, InfoProgress: 2}},
		{[]string{"--info=Del,,skip2"}, lv{InfoNonreg: 1, InfoDel: 1, InfoSkip: 2}},
	}
	for _, tt := range tests {
		o, err := Parse(append(tt.args, "src", "dst"), nil)
		if err != nil {
			t.Fatalf("Parse(%q): %v", tt.args, err)
		}
		var want [InfoCount]int8
		for f, l := range tt.want {
			want[f] = l
		}
		if o.Info != want {
			t.Errorf("Parse(%q).Info = %v, want %v", tt.args, o.Info, want)
		}
		if o.Progress != int(want[InfoProgress]) {
			t.Errorf("Parse(%q).Progress = %d, want %d", tt.args, o.Progress, want[InfoProgress])
		}
	}
}

// TestOutputErrors checks the messages of bad --info, --debug, --stderr and
// --outbuf values, and that a server ignores items it does not know.
func TestOutputErrors(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"--info=name,bogus2"}, `Unknown --info item: "bogus"`},
		{[]string{"--debug=2"}, `Unknown --debug item: "2"`},
		{[]string{"--stderr=x"}, `rsync: --stderr mode "x" is not one of errors, all, or client`},
		{[]string{"--stderr="}, `rsync: --stderr mode "" is not one of errors, all, or client`},
		{[]string{"--outbuf=x"}, "rsync: Invalid --outbuf setting -- specify N, L, or B."},
	}
	for _, tt := range tests {
		_, err := Parse(append(tt.args, "src", "dst"), nil)
		if err == nil || err.Error() != tt.want {
			t.Errorf("Parse(%q) error %v, want %q", tt.args, err, tt.want)
		}
	}
	if _, err := Parse([]string{"--server", "--info=name,newflag3", ".", "dst"}, nil); err != nil {
		t.Errorf("server: %v", err)
	}
	for val, want := range map[string]Msgs2Stderr{"e": StderrErrors, "a": StderrAll, "cl": StderrClient, "errors": StderrErrors} {
		o, err := Parse([]string{"--stderr=" + val, "src", "dst"}, nil)
		if err != nil || o.Msgs2Stderr != want {
			t.Errorf("--stderr=%s: %v, %v; want %v", val, o, err, want)
		}
	}
	for val, want := range map[string]OutBuf{"n": OutBufNone, "Unbuffered": OutBufNone, "line": OutBufLine, "B": OutBufBlock, "full": OutBufBlock} {
		o, err := Parse([]string{"--outbuf=" + val, "src", "dst"}, nil)
		if err != nil || o.OutBuf != want {
			t.Errorf("--outbuf=%s: %v; want %c", val, err, want)
		}
	}
}
