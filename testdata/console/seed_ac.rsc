# The seed's quick example, access-concentrator side (SPEC §6), as it would be typed.
/ip pool
add name=pppoe-pool ranges=10.0.0.2-10.0.0.5
/ppp profile
add local-address=10.0.0.1 name=for-pppoe remote-address=pppoe-pool
/ppp secret
add name=MT-User password=StrongPass profile=for-pppoe service=pppoe
/interface pppoe-server server
add default-profile=for-pppoe disabled=no interface=ether3 service-name=pppoeservice
/ip pool print
/ppp secret print
/ppp profile print
/interface pppoe-server server print
/interface pppoe-server print
/ppp active print
/ip pool used print
/export
/export show-sensitive
