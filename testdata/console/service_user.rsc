/ip service print
/ip service print detail
/ip service set www port=8080 disabled=no address=192.168.88.0/24,10.0.0.1
/ip service set metrics port=8080
/ip service set metrics address=10.0.0.300
/ip service add name=ssh port=22
/ip service remove www
/ip service print
/user print
/user set admin password=secret
/user add name=noc group=read password=viewonly address=10.0.0.0/8
/user add name=x group=superuser
/user remove admin
/user print detail
/export
/export show-sensitive
