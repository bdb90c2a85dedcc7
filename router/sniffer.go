package router

import "rosh/link"

type sniffer struct{}

func (s *sniffer) capture(port string, dir link.Direction, frame []byte) {}
