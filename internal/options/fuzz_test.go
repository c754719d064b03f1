package options

import (
	"bytes"
	"testing"
)

// FuzzParse feeds Parse argument vectors split from the fuzz input at NUL
// bytes; Parse must never panic, and whatever it accepts must produce server
// arguments that Parse accepts again in server mode.
func FuzzParse(f *testing.F) {
	f.Add([]byte("-av\x00src/\x00host:dst"))
	f.Add([]byte("--server\x00--sender\x00-vlogDtpre.iLsfxCIvu\x00.\x00src/"))
	f.Add([]byte("--protocol=0x1e\x00--cc=xxh128,md5\x00-e\x00ssh -p 2\x00a\x00b"))
	f.Add([]byte("-h"))
	f.Add([]byte("--no-W\x00--cc=none\x00-vvvvvvvvvvvvvv\x00--\x00-x\x00y"))
	f.Fuzz(func(t *testing.T, data []byte) {
		var args []string
		if len(data) > 0 {
			for _, a := range bytes.Split(data, []byte{0}) {
				args = append(args, string(a))
			}
		}
		o, err := Parse(args, nil)
		if err != nil {
			if err.Error() == "" {
				t.Fatalf("Parse(%q): empty error message", args)
			}
			return
		}
		if o.Server || o.Help || o.Version > 0 {
			return
		}
		for _, sender := range []bool{false, true} {
			sa := o.RemoteArgs(sender, ".LsfxCIvu", o.Args)
			if _, err := Parse(sa, nil); err != nil {
				t.Fatalf("Parse(%q) accepted; server side rejects its ServerArgs %q: %v", args, sa, err)
			}
		}
	})
}
