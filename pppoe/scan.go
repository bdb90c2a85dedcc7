package pppoe

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"time"

	"rosh/clock"
	"rosh/link"
)

// ScanResult is one access concentrator offering one service: a row of
// `/interface pppoe-client scan`.
type ScanResult struct {
	Service string
	MAC     MAC
	ACName  string
}

// ScanConfig configures Scan.
type ScanConfig struct {
	// Duration is how long to collect PADOs (default 5 s, RouterOS's).
	Duration time.Duration
	// Interval is how often the PADI is resent within Duration (default
	// 1 s), so an AC that missed one still shows.
	Interval time.Duration
	// Clock to take time from; nil is the real clock.
	Clock clock.Clock
	// OnResult, if set, is called with every new row as it is found, for a
	// display that refreshes.
	OnResult func(ScanResult)
}

// Scan broadcasts PADIs asking for any service (RFC 2516 §5.1, empty
// Service-Name) on port for cfg.Duration and returns one row per access
// concentrator and service that answered, in the order they were first
// seen. A PADO naming several services gives a row for each; the empty
// Service-Name that echoes our request is not a row unless it is all the AC
// names. Scan never sends a PADR, so the ACs keep no state for it.
func Scan(ctx context.Context, port *link.Port, cfg ScanConfig) ([]ScanResult, error) {
	local, ok := MACFrom(port.HardwareAddr())
	if !ok {
		return nil, fmt.Errorf("pppoe: %s: not an Ethernet interface", port.Name())
	}
	if cfg.Duration <= 0 {
		cfg.Duration = 5 * time.Second
	}
	if cfg.Interval <= 0 {
		cfg.Interval = time.Second
	}
	clk := clock.OrReal(cfg.Clock)
	hostUniq := make([]byte, hostUniqLen)
	if _, err := rand.Read(hostUniq); err != nil {
		return nil, err
	}
	inbox := link.NewInbox(256, link.MaxFrameLen(port.MTU()))
	sub := port.Subscribe(func(frame []byte) bool {
		eth, rest, err := ParseEthernet(frame)
		if err != nil || eth.EtherType != EtherTypeDiscovery || eth.Dst != local ||
			len(rest) < HeaderLen || Code(rest[codeOffset]) != CodePADO {
			return false
		}
		h, err := ParseHeader(rest)
		if err != nil {
			return false
		}
		if hu, ok := findTag(h.Payload(), TagHostUniq); !ok || !bytes.Equal(hu, hostUniq) {
			return false
		}
		return inbox.Put(frame)
	})
	defer sub.Cancel()

	padi := Packet{
		Ethernet: Ethernet{Dst: Broadcast, Src: local, EtherType: EtherTypeDiscovery},
		Code:     CodePADI,
		Tags: Tags{
			{Type: TagServiceName, Value: []byte{}},
			{Type: TagHostUniq, Value: hostUniq},
		},
	}
	frame, err := padi.MarshalBinary()
	if err != nil {
		return nil, err
	}
	end := clk.NewTimer(cfg.Duration)
	defer end.Stop()
	resend := clk.NewTimer(cfg.Interval)
	defer resend.Stop()
	if err := port.WriteFrame(frame); err != nil {
		return nil, err
	}

	type key struct {
		mac     MAC
		service string
	}
	seen := map[key]bool{}
	var rows []ScanResult
	var p Packet
	add := func(r ScanResult) {
		k := key{r.MAC, r.Service}
		if seen[k] {
			return
		}
		seen[k] = true
		rows = append(rows, r)
		if cfg.OnResult != nil {
			cfg.OnResult(r)
		}
	}
	for {
		select {
		case <-ctx.Done():
			return rows, ctx.Err()
		case <-port.Done():
			return rows, ErrLinkDown
		case <-end.C():
			return rows, nil
		case <-resend.C():
			resend.Reset(cfg.Interval)
			if err := port.WriteFrame(frame); err != nil {
				return rows, err
			}
		case b := <-inbox.C():
			err := p.Decode(b)
			if err == nil && p.SessionID == 0 && p.Tags.Err(p.Src) == nil {
				acName, _ := p.Tags.Value(TagACName)
				named := false
				for _, t := range p.Tags {
					if t.Type == TagServiceName && len(t.Value) > 0 {
						named = true
						add(ScanResult{Service: string(t.Value), MAC: p.Src, ACName: string(acName)})
					}
				}
				if !named && p.Tags.Count(TagServiceName) > 0 {
					add(ScanResult{MAC: p.Src, ACName: string(acName)})
				}
			}
			inbox.Recycle(b)
		}
	}
}
