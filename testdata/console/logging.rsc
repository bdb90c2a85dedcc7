/system logging print
/system logging action print detail
/system logging add topics=pppoe,ppp,debug,packet
/system logging add topics=ppp,!debug action=disk prefix="ppp"
/system logging add topics=bogus
/system logging set 0 topics=info,!debug
/system logging remove 0
/system logging action set disk disk-file-name=pppoe-trace disk-lines-per-file=5000
/system logging action set disk disk-file-name=../etc/passwd
/system logging action add name=trace target=disk disk-file-name=trace
/system logging action remove disk
/system logging print
/log print where topics~"ppp"
/export
