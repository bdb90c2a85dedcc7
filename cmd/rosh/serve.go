package main

import (
	"os"

	"github.com/spf13/cobra"

	"rosh/daemon"
)

// serveCommand is `rosh serve`: the engine as a daemon on a unix socket.
func serveCommand(code *int) *cobra.Command {
	var opt daemon.ServeOptions
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "run the router as a daemon: sessions stay up while consoles attach and detach",
		Long: "rosh serve loads the configuration, starts every enabled client and server and\n" +
			"listens on a unix socket; `rosh` (or `rosh console`) attaches a console to it.\n" +
			"SIGTERM or SIGINT ends every session cleanly and exits; SIGHUP reopens the log files.",
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			*code = daemon.Serve(opt, os.Stderr)
			return nil
		},
	}
	cmd.Flags().StringVar(&opt.ConfigPath, "config", "/var/lib/rosh/config.rsc", "configuration file, loaded at start and saved after every change")
	cmd.Flags().StringVar(&opt.Socket, "socket", daemon.DefaultSocket, "unix socket consoles attach on")
	return cmd
}

// consoleCommand is `rosh console`: attach to a running daemon.
func consoleCommand(code *int) *cobra.Command {
	var opt daemon.AttachOptions
	cmd := &cobra.Command{
		Use:   "console",
		Short: "attach a console to a running rosh serve; /quit or Ctrl-D detaches and the sessions stay up",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			*code = daemon.RunConsole(opt, os.Stdin, os.Stdout, os.Stderr)
			return nil
		},
	}
	cmd.Flags().StringVar(&opt.Socket, "socket", daemon.DefaultSocket, "unix socket of the daemon")
	cmd.Flags().StringVar(&opt.Script, "script", "", "run this script file instead of reading the console")
	return cmd
}
