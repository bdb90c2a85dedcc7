# The seed's quick example, client side (SPEC §6).
/interface pppoe-client add interface=ether2 password=StrongPass service-name=pppoeservice name=PPPoE-Out disabled=no user=MT-User
/interface pppoe-client print
/interface pppoe-client monitor PPPoE-Out once
/interface pppoe-client add interface=ether9 user=other
/interface pppoe-client print
/interface pppoe-client print terse
/interface pppoe-client print count-only
/interface pppoe-client print where disabled
/interface pppoe-client print where interface=ether2 and !disabled
/interface pppoe-client set [find name=pppoe-out1] interface=ether2 allow=mschap2,pap comment="second line"
/interface pppoe-client enable pppoe-out1
/interface pppoe-client print detail where name~"^pppoe"
/interface pppoe-client set 1 !allow
/interface pppoe-client print detail proplist=name,allow
/interface pppoe-client remove 1
/interface pppoe-client print count-only
/export
