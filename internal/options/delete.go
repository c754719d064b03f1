package options

import "strconv"

// applyDelete performs the deletion options. rsync: options.c
// long_options (delete_mode, delete_before, delete_during,
// delete_after, delete_excluded, missing_args, force_delete,
// ignore_errors, max_delete)
func (p *parser) applyDelete(s *optSpec, val string) error {
	o := p.o
	switch s.id {
	case optDelete:
		o.Delete = true
	case optDeleteBefore:
		o.DeleteBefore = true
	case optDeleteDuring:
		o.DeleteDuring = DeleteDuringOn
	case optDeleteDelay:
		o.DeleteDuring = DeleteDuringDelay
	case optDeleteAfter:
		o.DeleteAfter = true
	case optDeleteExcluded:
		o.DeleteExcluded = true
	case optDeleteMissingArgs:
		o.MissingArgs = DeleteMissingArgs
	case optIgnoreMissingArgs:
		if o.MissingArgs != DeleteMissingArgs {
			// --delete-missing-args wins whatever the order.
			o.MissingArgs = IgnoreMissingArgs
		}
	case optForce, optNoForce:
		o.Force = s.id == optForce
	case optIgnoreErrors, optNoIgnoreErrors:
		o.IgnoreErrors = s.id == optIgnoreErrors
	case optMaxDelete:
		n, reason := parseCInt(val)
		if reason != "" {
			return p.fail("--max-delete", reason)
		}
		o.MaxDelete, o.MaxDeleteSet = n, true
	}
	return nil
}

// checkDelete settles the deletion options once all are parsed: one
// --delete-WHEN at most, any of them (or --delete-excluded) implying
// --delete, which needs -r or -d; a negative --max-delete means none.
// rsync: options.c parse_arguments
func (p *parser) checkDelete() error {
	o := p.o
	if o.MaxDeleteSet && o.MaxDelete < 0 {
		o.MaxDelete = 0
	}
	n := 0
	for _, on := range []bool{o.DeleteBefore, o.DeleteDuring != DeleteDuringOff, o.DeleteAfter} {
		if on {
			n++
		}
	}
	if n > 1 {
		return &UsageError{Reason: "You may not combine multiple --delete-WHEN options.", Server: o.Server}
	}
	if n > 0 || o.DeleteExcluded {
		o.Delete = true
	}
	if o.Delete && !o.TransferDirs() {
		return &UsageError{Reason: "--delete does not work without --recursive (-r) or --dirs (-d).", Server: o.Server}
	}
	return nil
}

// deleteDirs reports whether a pushing client must send -d so that the
// server deletes without -r. rsync: options.c server_options
func (o *Options) deleteDirs(localSender bool) bool {
	return localSender && o.Delete && !o.Recursive && o.TransferDirs()
}

// deleteArgs appends, for a pushing client, --max-delete (before the
// size limits), or the --delete-WHEN, --delete-excluded and --force
// options (after them), as rsync's server_options orders them; which
// says which of the two groups.
func (o *Options) deleteArgs(args []string, localSender bool, which int) []string {
	if !localSender {
		return args
	}
	if which == 0 {
		switch {
		case o.MaxDeleteSet && o.MaxDelete > 0:
			args = append(args, "--max-delete="+strconv.Itoa(o.MaxDelete))
		case o.MaxDeleteSet:
			// Old servers took 0 to mean no limit.
			args = append(args, "--max-delete=-1")
		}
		return args
	}
	switch {
	case o.DeleteBefore:
		args = append(args, "--delete-before")
	case o.DeleteDuring == DeleteDuringDelay:
		args = append(args, "--delete-delay")
	case o.DeleteDuring == DeleteDuringOn:
		args = append(args, "--delete-during")
	case o.DeleteAfter:
		args = append(args, "--delete-after")
	case o.Delete && !o.DeleteExcluded:
		args = append(args, "--delete")
	}
	if o.DeleteExcluded {
		args = append(args, "--delete-excluded")
	}
	if o.Force {
		args = append(args, "--force")
	}
	return args
}

// missingArgsArgs appends --delete-missing-args (which needs both sides)
// or, for a pulling client, --ignore-missing-args.
func (o *Options) missingArgsArgs(args []string, localSender bool) []string {
	switch {
	case o.MissingArgs == DeleteMissingArgs:
		args = append(args, "--delete-missing-args")
	case o.MissingArgs == IgnoreMissingArgs && !localSender:
		args = append(args, "--ignore-missing-args")
	}
	return args
}

// ignoreErrorsArg appends --ignore-errors.
func (o *Options) ignoreErrorsArg(args []string) []string {
	if o.IgnoreErrors {
		args = append(args, "--ignore-errors")
	}
	return args
}

// noRecurseArg appends the --no-r that tells a server deleting with -d
// and no -r that it may. rsync: options.c server_options
func (o *Options) noRecurseArg(args []string, localSender bool) []string {
	if o.deleteDirs(localSender) {
		args = append(args, "--no-r")
	}
	return args
}

// ReceiverWantsFilters reports whether a receiving server reads the
// client's filter rules: when it deletes (and, from protocol 29, even
// with --delete-excluded) or prunes empty directories.
// rsync: exclude.c send_filter_list, recv_filter_list
func (o *Options) ReceiverWantsFilters(protocol int) bool {
	return o.PruneEmptyDirs || (o.Delete && (!o.DeleteExcluded || protocol >= 29))
}
