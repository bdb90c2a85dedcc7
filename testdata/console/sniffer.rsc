/tool sniffer print
/tool sniffer set filter-interface=ether2 filter-mac-address=02:ab:cd:00:00:01 file-name=session.pcap file-limit=2000
/tool sniffer set filter-interface=ether9
/tool sniffer set filter-mac-address=nonsense
/tool sniffer set file-limit=1
/tool sniffer print
/tool sniffer save
/tool sniffer save file-name=../x.pcap
/tool sniffer start
/export
/tool sniffer set filter-interface=all
