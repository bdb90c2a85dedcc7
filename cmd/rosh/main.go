// Command rosh is a RouterOS-style router shell whose engine is a
// user-space PPPoE client and access concentrator. This file only wires
// flags to the engine, the menus and the console.
package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"rosh/daemon"
	"rosh/lab"
	"rosh/shell"
)

func main() {
	os.Exit(run(os.Args[1:]))
}

func run(args []string) int {
	var opts shell.Options
	var socket string
	code := 0
	root := &cobra.Command{
		Use:   "rosh",
		Short: "RouterOS-style router shell with a user-space PPPoE client and server",
		Long: "rosh is a RouterOS-style console for Linux. Type the MikroTik commands you know\n" +
			"(/ip pool, /ppp profile, /ppp secret, /interface pppoe-server server,\n" +
			"/interface pppoe-client) and get real PPPoE sessions on real interfaces.",
		Args:          cobra.NoArgs,
		SilenceUsage:  true,
		SilenceErrors: true,
		RunE: func(cmd *cobra.Command, _ []string) error {
			opts.IdentitySet = cmd.Flags().Changed("identity")
			// A daemon serving the configuration, or (no --config given)
			// listening on the socket: attach to it rather than run a
			// second engine.
			sock, served := daemon.ServingSocket(opts.ConfigPath)
			if !served && !cmd.Flags().Changed("config") && daemon.Listening(socket) {
				sock, served = socket, true
			}
			if served {
				if opts.IdentitySet {
					return fmt.Errorf("--identity: a daemon serves this configuration (socket %s): attach and use /system identity set", sock)
				}
				code = daemon.RunConsole(daemon.AttachOptions{Socket: sock, Script: opts.Script}, os.Stdin, os.Stdout, os.Stderr)
				return nil
			}
			code = shell.Main(opts, os.Stdin, os.Stdout, os.Stderr)
			return nil
		},
	}
	root.Flags().StringVar(&socket, "socket", daemon.DefaultSocket, "attach to the rosh serve daemon listening here, when one does")
	root.Flags().StringVar(&opts.ConfigPath, "config", "/var/lib/rosh/config.rsc", "configuration file, loaded at start and saved after every change")
	root.Flags().StringVar(&opts.Script, "script", "", "run this script file instead of reading the console")
	root.Flags().StringVar(&opts.Identity, "identity", "", "set the router identity (prompt and PPPoE AC-Name)")
	root.AddCommand(&cobra.Command{
		Use:   "version",
		Short: "print rosh's version",
		Args:  cobra.NoArgs,
		Run:   func(*cobra.Command, []string) { fmt.Println("rosh " + shell.Version) },
	})
	root.AddCommand(&cobra.Command{
		Use:   "lab",
		Short: "open a ready-made lab: an access concentrator and a client router in two network namespaces",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			self, err := os.Executable()
			if err != nil {
				return err
			}
			return lab.Run(lab.Options{Rosh: self, Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr})
		},
	})
	root.AddCommand(emulateCommand(&code))
	root.AddCommand(serveCommand(&code), consoleCommand(&code))
	root.SetArgs(args)
	if err := root.Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "rosh:", err)
		return 2
	}
	return code
}
