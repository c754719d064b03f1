package engine

import "github.com/gorsync/gorsync/internal/flist"

// logItem prints a client's out-format line for an entry (nothing without
// a format, as on a server) and, as code says, records its --log-file
// line. rsync: log.c log_item
func (c *Conn) logItem(o *Options, it logged, code logCode) {
	if c.Log == nil {
		return
	}
	if it.op == "" {
		it.op = "recv"
	}
	sl, split := c.Log.(splitLogger)
	if code != logFile && o.Out.On && !o.Quiet {
		line := c.formatItem(o, o.Out.Format, &it)
		if split {
			sl.Client(line)
		} else {
			c.Log.Info(line)
		}
	}
	if code != logClient && split && o.LogFormat.On && o.LogFormat.Format != "" {
		sl.LogOnly(c.formatItem(o, o.LogFormat.Format, &it))
	}
}

// maybeLogItem prints the line for an entry that was not transferred: one
// with a significant change when itemizing, every entry with -ii, and
// without -i a changed directory or an entry made here (a link, a special
// file). rsync: log.c maybe_log_item (a client's)
func (c *Conn) maybeLogItem(o *Options, it logged) {
	e, iflags := it.e, it.iflags
	sig := iflags & significantItemFlags
	hasI := o.Out.HasI
	seeItem := hasI > 0 && (sig != 0 || hasI > 1 || o.Info.Name >= 2)
	localChange := iflags&itemLocalChange != 0 && sig != 0
	if seeItem || localChange || e.IsDir() && sig != 0 {
		code := logClient
		if sig != 0 || o.LogFormat.HasI > 0 {
			code = logBoth
		}
		c.logItem(o, it, code)
	}
}

// logDeleted prints a client's line for a deleted entry: the out-format
// when it itemizes or names the operation, else "deleting NAME" (with
// --info=del, which -v implies, or any out-format); --log-file records it
// likewise, but not in a dry run. rsync: log.c log_delete
func (c *Conn) logDeleted(o *Options, name string, isDir bool) {
	if c.Log == nil {
		return
	}
	e := &flist.Entry{Base: name, Mode: flist.ModeRegular}
	if isDir {
		e.Mode = flist.ModeDir
	}
	it := &logged{e: e, name: name, op: "del.", iflags: itemDeleted}
	sl, split := c.Log.(splitLogger)
	if o.LogDeletions() {
		format := "deleting %n"
		if o.Out.HasOorI {
			format = o.Out.Format
		}
		line := c.formatItem(o, format, it)
		if split {
			sl.Client(line)
		} else {
			c.Log.Info(line)
		}
	}
	if split && o.LogFormat.On && o.LogFormat.Format != "" && !o.DryRun {
		format := "deleting %n"
		if o.LogFormat.HasOorI {
			format = o.LogFormat.Format
		}
		sl.LogOnly(c.formatItem(o, format, it))
	}
}

// afterCode is where a transferred file's line goes once its data is
// through: only to the log file when the terminal had it before.
// rsync: receiver.c recv_files, sender.c send_files (log_code)
func (o *Options) afterCode() logCode {
	if o.Out.Before {
		return logFile
	}
	return logBoth
}
