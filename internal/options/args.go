package options

import "strings"

// RemoteCommand splits RemoteArgs the way -s (--secluded-args) does: cmd
// is what goes on the remote shell's command line, secluded what the
// client then sends over the connection before the protocol starts (nil
// without -s). The server's first arguments ("--server", "--sender", the
// bundled letters with 's') stay on the command line, so that it knows to
// read the rest. Values go unescaped when -s or a doubled --old-args
// says nothing will unescape them.
// rsync: options.c server_options, safe_arg; main.c do_cmd
func (o *Options) RemoteCommand(localSender bool, clientInfo string, paths []string) (cmd, secluded []string) {
	args := o.RemoteArgs(localSender, clientInfo, paths)
	if o.SecludedArgs || o.OldArgs >= 2 {
		// The options, not the paths after ".", which quoteRemotePath
		// left as they are.
		for i, a := range args[:len(args)-len(paths)-1] {
			args[i] = unbackslash(a)
		}
	}
	if !o.SecludedArgs {
		return args, nil
	}
	split := 1 // after "--server"
	if !localSender {
		split++ // "--sender"
	}
	split++ // the letters, which hold 's' at least
	// rsync: send_protected_args replaces the split point with a new
	// argv[0], which the server's second parse skips.
	secluded = append([]string{"rsync"}, args[split:]...)
	return args[:split], secluded
}

// quoteRemotePath quotes one remote path as safe_arg does for a file
// name: only a leading '-' is disarmed with -s or --old-args (the server
// or the remote shell then sees the name as it is), and QuotePath's
// escaping applies otherwise. rsync: options.c safe_arg
func (o *Options) quoteRemotePath(p string, localSender bool) string {
	if o.SecludedArgs || o.OldArgs > 0 {
		if strings.HasPrefix(p, "-") {
			return "./" + p
		}
		return p
	}
	return QuotePath(p, localSender)
}

// unbackslash undoes safeArg's escaping of an option's value: "\X"
// becomes "X". Arguments ServerArgs writes without safeArg hold no
// backslash. rsync: io.c unbackslash_arg
func unbackslash(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) {
			i++
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// ReadSecludedArgs reads the arguments a -s client sends after starting
// the server: NUL-terminated strings up to an empty one, the first being a
// new argv[0], which is dropped. The file arguments after the "." are
// expanded by glob, as the remote shell would have expanded them (glob
// is nil to keep them as they are). Each argument is at most maxArg
// bytes, as rsync's read_line buffer is.
// rsync: io.c read_args; main.c start_server
func ReadSecludedArgs(r interface{ ReadByte() (byte, error) }, glob func(string) []string) ([]string, error) {
	const maxArg = 4096
	const maxArgs = 1 << 16
	var args []string
	var cur []byte
	dot := false
	for {
		c, err := r.ReadByte()
		if err != nil {
			return nil, err
		}
		if c != 0 {
			if len(cur) >= maxArg {
				return nil, &UsageError{Reason: "secluded argument too long", Server: true}
			}
			cur = append(cur, c)
			continue
		}
		if len(cur) == 0 {
			break
		}
		a := string(cur)
		cur = cur[:0]
		if len(args) >= maxArgs {
			return nil, &UsageError{Reason: "too many secluded arguments", Server: true}
		}
		if dot && glob != nil {
			args = append(args, glob(a)...)
			continue
		}
		args = append(args, a)
		if a == "." && len(args) > 1 {
			dot = true
		}
	}
	if len(args) > 0 {
		args = args[1:]
	}
	return args, nil
}
