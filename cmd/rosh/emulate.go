package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"rosh/emulate"
	"rosh/ppp"
	"rosh/pppoe"
)

// emulateCommand is `rosh emulate`: a load test of an access concentrator
// with many PPPoE subscribers (package emulate). The exit status is 1 when
// a subscriber failed or lost its session.
func emulateCommand(code *int) *cobra.Command {
	var (
		cfg         emulate.Config
		iface, auth string
		macBase     string
	)
	cmd := &cobra.Command{
		Use:   "emulate",
		Short: "bring up many PPPoE subscribers against an access concentrator and measure it",
		Long: "emulate dials --sessions PPPoE subscribers on --interface, each with its own MAC\n" +
			"and user name, --rate new ones a second, holds them for --hold once all are up or\n" +
			"failed, then hangs them all up. It prints progress on a terminal and a summary:\n" +
			"sessions established, setup rate, failures by reason, teardown time. Ctrl-C skips\n" +
			"to the teardown. The interface is put in promiscuous mode while it runs.",
		Example: "  rosh emulate --interface ether2 --sessions 10000 --rate 2000 --user-pattern 'user%d' --password secret --auth mschap2 --hold 30s",
		Args:    cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			var err error
			if cfg.Allow, err = ppp.ParseMethodSet(auth); err != nil {
				return err
			}
			if macBase != "" {
				hw, err := net.ParseMAC(macBase)
				if err != nil {
					return err
				}
				var ok bool
				if cfg.BaseMAC, ok = pppoe.MACFrom(hw); !ok {
					return fmt.Errorf("--mac-base %s is not an Ethernet address", macBase)
				}
			}
			port, err := emulate.OpenPort(iface)
			if err != nil {
				return err
			}
			defer port.Close()
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			out := c.OutOrStdout()
			var progress func(emulate.Stats)
			if term.IsTerminal(int(os.Stdout.Fd())) {
				progress = func(s emulate.Stats) { fmt.Fprintf(out, "\r\033[K%s", emulate.ProgressLine(s, cfg.Sessions)) }
			}
			fmt.Fprintf(out, "emulating %d subscribers on %s\n", cfg.Sessions, iface)
			r, err := emulate.Run(ctx, port, cfg, progress)
			if err != nil {
				return err
			}
			if progress != nil {
				fmt.Fprint(out, "\r\033[K")
			}
			if r.Failed > 0 || r.Lost > 0 {
				*code = 1 // a script can tell a clean run
			}
			return r.WriteTable(out)
		},
	}
	f := cmd.Flags()
	f.StringVar(&iface, "interface", "", "interface the subscribers dial on (required)")
	f.IntVar(&cfg.Sessions, "sessions", 1, "how many subscribers")
	f.Float64Var(&cfg.Rate, "rate", 100, "new subscribers a second (0: all at once)")
	f.IntVar(&cfg.MaxPending, "max-pending", 0, "most subscribers in setup at once; a new one waits for another to come up or fail (0: no limit)")
	f.StringVar(&cfg.UserPattern, "user-pattern", "user%d", "user names, %d the subscriber's number")
	f.StringVar(&cfg.Password, "password", "", "password, or a pattern with %d")
	f.IntVar(&cfg.First, "first", 1, "number of the first subscriber")
	f.StringVar(&auth, "auth", "", "methods the subscribers accept: pap, chap, mschap1, mschap2, comma-separated (default all)")
	f.DurationVar(&cfg.Hold, "hold", 0, "how long to keep the sessions up once all are up or failed (negative: until Ctrl-C)")
	f.StringVar(&cfg.ServiceName, "service-name", "", "service to ask for (default any)")
	f.StringVar(&cfg.ACName, "ac-name", "", "take offers only from this access concentrator")
	f.StringVar(&macBase, "mac-base", "", "first subscriber's MAC, the others count up (default 02 and the interface MAC's last three octets, then 00:00)")
	f.DurationVar(&cfg.Keepalive, "keepalive", 10*time.Second, "LCP echo interval of each subscriber (0: only answer the AC's)")
	f.DurationVar(&cfg.Redial, "redial", 0, "dial again this long after a failure or a lost session, as a CPE does (0: dial once)")
	f.DurationVar(&cfg.SetupTimeout, "timeout", emulate.DefaultSetupTimeout, "give up on a subscriber not up within this time")
	cmd.MarkFlagRequired("interface")
	return cmd
}
