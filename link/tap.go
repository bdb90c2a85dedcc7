package link

// Direction says whether a tapped frame was received or sent.
type Direction uint8

// Directions of a tapped frame.
const (
	Received Direction = iota
	Sent
)

func (d Direction) String() string {
	if d == Sent {
		return "sent"
	}
	return "rcvd"
}

// A Tap sees every frame a Port reads or sends: the packet sniffer and the
// discovery trace. It runs on the reader's goroutine for received frames
// and on the writer's for sent ones, so it must not block, must be safe
// for concurrent use, and must not keep frame. A Port without one pays a
// single atomic load per frame.
type Tap func(port string, dir Direction, frame []byte)

// SetTap installs t (nil removes it).
func (p *Port) SetTap(t Tap) {
	if t == nil {
		p.tap.Store(nil)
		return
	}
	p.tap.Store(&t)
}

func (p *Port) tapped(dir Direction, frame []byte) {
	if t := p.tap.Load(); t != nil {
		(*t)(p.l.Name(), dir, frame)
	}
}

// SetTap installs t on every Port the Registry hands out, now and later
// (nil removes it).
func (r *Registry) SetTap(t Tap) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.tap = t
	for name, e := range r.ports {
		e.port.SetTap(r.portTap(name))
	}
}

// portTap is the Registry's tap for the named interface: the frames go
// under the name they were acquired by.
func (r *Registry) portTap(name string) Tap {
	t := r.tap
	if t == nil {
		return nil
	}
	return func(_ string, dir Direction, frame []byte) { t(name, dir, frame) }
}
