// Package flist is rsync's file list: the entry model, its wire codec for
// protocols 27 to 32, rsync's sort order and duplicate cleaning, the uid/gid
// name lists that follow the list, and the sender's walk of the source tree.
//
// The codec mirrors rsync's flist.c send_file_entry and recv_file_entry
// byte for byte; the order, f_name_cmp; the walk, send_file_list and
// send_directory. Decoding treats the peer as hostile: every length is
// bounded before allocation and every name is cleaned like clean_fname.
package flist
