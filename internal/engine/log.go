package engine

import "github.com/gorsync/gorsync/internal/flist"

// logItem prints a client's out-format line for an entry (nothing without
// a format, as on a server); bytes and sum are a transferred file's wire
// bytes (%b) and checksum (%C). rsync: log.c log_item
func (c *Conn) logItem(o *Options, it logged) {
	if !o.Out.On || o.Quiet || c.Log == nil {
		return
	}
	if it.op == "" {
		it.op = "recv"
	}
	c.Log.Info(c.formatItem(o, o.Out.Format, &it))
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
		c.logItem(o, it)
	}
}

// logDeleted prints a client's line for a deleted entry: the out-format
// when it itemizes or names the operation, else "deleting NAME" (with
// --info=del, which -v implies, or any out-format). rsync: log.c log_delete
func (c *Conn) logDeleted(o *Options, name string, isDir bool) {
	if !o.Out.On && o.Info.Del == 0 || o.Quiet || c.Log == nil {
		return
	}
	format := "deleting %n"
	if o.Out.HasOorI {
		format = o.Out.Format
	}
	e := &flist.Entry{Base: name, Mode: flist.ModeRegular}
	if isDir {
		e.Mode = flist.ModeDir
	}
	c.Log.Info(c.formatItem(o, format, &logged{e: e, name: name, op: "del.", iflags: itemDeleted}))
}
