package interop

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gorsync/gorsync/internal/rsynctest"
)

// quotedName is a directory name that a remote shell would mangle unless the
// client quotes the remote path: a space and most of sh's metacharacters.
const quotedName = `sp ace;$HOME&|<>(x)'q"b` + "`!#\\"

// sshVariant says how the remote path is spelled.
type sshVariant struct {
	name   string
	quoted bool     // the remote directory sits below quotedName
	user   bool     // host is written user@host
	args   []string // options added to -a
}

var sshVariants = []sshVariant{
	{name: "plain"},
	{name: "quoted-path", quoted: true},
	{name: "user-at-host", user: true},
	// -s sends the quoted path over the connection instead of ssh's
	// command line; the limits travel as server options.
	{name: "quoted-path-secluded", quoted: true, args: []string{"-s"}},
	{name: "limits", args: []string{"--timeout=60", "--bwlimit=100M", "--max-alloc=64M"}},
}

// TestSSH copies the small standard tree over a real ssh connection, in every
// pairing and both directions, then copies the edited tree over the copy;
// both times the destination must equal the source. Variants put the remote
// side below a directory whose name needs shell quoting, and name the host
// as user@host.
func TestSSH(t *testing.T) {
	trees(t)
	gorsync := rsynctest.BuildGorsync(t)
	rsync := rsynctest.RequireRsync(t)
	srv := rsynctest.StartSSHD(t)
	for _, p := range pairings {
		for _, push := range []bool{true, false} {
			dirName := "pull"
			if push {
				dirName = "push"
			}
			for _, v := range sshVariants {
				t.Run(p.name+"/"+dirName+"/"+v.name, func(t *testing.T) {
					if v.user && os.Geteuid() != 0 {
						t.Skip("user@host runs as root, as in CI; not root")
					}
					t.Parallel()
					client, server := rsync, rsync
					if p.clientGorsync {
						client = gorsync
					}
					if p.serverGorsync {
						server = gorsync
					}
					host := srv.Host()
					if v.user {
						host = "root@" + host
					}
					base := t.TempDir()
					if v.quoted {
						base = filepath.Join(base, quotedName)
					}
					// rsync creates only the last component of a destination.
					if err := os.MkdirAll(base, 0o755); err != nil {
						t.Fatal(err)
					}
					dst := filepath.Join(base, "dst")
					// The remote source is reached through symlinks below
					// base, so a pull also names a quoted remote path.
					srcA, srcB := smallA, smallB
					if !push {
						srcA, srcB = filepath.Join(base, "A"), filepath.Join(base, "B")
						for link, target := range map[string]string{srcA: smallA, srcB: smallB} {
							if err := os.Symlink(target, link); err != nil {
								t.Fatal(err)
							}
						}
					}
					copyOnce := func(src string) {
						t.Helper()
						args := append([]string{"-a", "-e", srv.RshCommand(), "--rsync-path=" + server}, v.args...)
						if push {
							args = append(args, src+"/", host+":"+dst+"/")
						} else {
							args = append(args, host+":"+src+"/", dst+"/")
						}
						out, errOut, code := rsynctest.Run(t, "", nil, client, args...)
						if code != 0 {
							t.Fatalf("%s: exit %d\nstdout:\n%s\nstderr:\n%s\nargs: %q",
								filepath.Base(client), code, out, errOut, strings.Join(args, " "))
						}
					}
					copyOnce(srcA)
					rsynctest.CompareTrees(t, smallA, dst, rsynctest.Archive(false))
					copyOnce(srcB)
					rsynctest.CompareTrees(t, smallB, dst, rsynctest.Archive(false))
				})
			}
		}
	}
}
