# Paths, prefixes, .., /, both spellings, identity in the prompt.
/int pppoe-c pr
/ppp/secret add name=a password=b
/ppp
secret print
..
/ppp secret
print
/
/system identity set name=edge-1
/system identity print
/ip pool add name=p1 ranges=10.1.0.0/24,10.2.0.1-10.2.0.9
/ip pool add name=p2 ranges=10.3.0.1 next-pool=p1 comment="overflow pool"
/ip pool print
/ip pool print where name=p2
/ip pool print where ranges~"10\\.1"
/ppp profile add name=pro1 remote-address=p1 local-address=10.9.9.9 dns-server=1.1.1.1,8.8.8.8 session-timeout=1h30m idle-timeout=00:05:00 only-one=yes
/ppp profile set default change-tcp-mss=no
/ppp profile print
/ppp secret set a profile=pro1 remote-address=10.1.0.7 caller-id=02:00:00:00:00:01
/ppp secret print
/ppp secret disable 0
/ppp secret print
/ppp secret comment 0 comment="test user"
/ppp secret print
/log print
/interface print
/export
