package router

import (
	"context"

	"rosh/ppp"
	"rosh/pppoe"
)

// runPPP runs a PPP session over a PPPoE session until either ends. The
// PPP session's one goroutine reads the PPPoE session's frames itself
// (RFC 2516 §7: the PPP Protocol field first, no address/control, no FCS);
// a PADT takes it down at once, and a PPP session that ends closes the
// PPPoE session with a PADT. started, if set, is called with the PPP
// session before it runs, so the owner can Close it.
func runPPP(ctx context.Context, ps *pppoe.Session, cfg ppp.Config, started func(*ppp.Session)) error {
	s, err := ppp.NewOnLink(cfg, ps)
	if err != nil {
		ps.Close()
		return err
	}
	if started != nil {
		started(s)
	}
	err = s.Run(ctx)
	ps.Close()
	return err
}
