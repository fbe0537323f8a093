# tests/integration/apache.sh: a private Apache for tests and benchmarks.
# Source it, then:
#   apache_conf DIR PORT...  writes DIR/httpd.conf: the global part of a
#                            config whose runtime files, logs and documents
#                            are under DIR (DIR/run, DIR/error.log,
#                            DIR/htdocs), listening on 127.0.0.1:PORT for
#                            each PORT.  Append the vhosts to it.
#   apache_stop DIR          stops the Apache whose pid is in DIR/run, and
#                            waits up to 5 s for it to go.
# Children run as www-data, so DIR and DIR/htdocs are made world-readable.

apache_conf() {
	_ad=$1; shift
	mkdir -p "$_ad/run" "$_ad/htdocs"
	chmod 755 "$_ad" "$_ad/htdocs"
	[ -f "$_ad/htdocs/index.html" ] || echo "hello from apache" > "$_ad/htdocs/index.html"
	chmod 644 "$_ad/htdocs/index.html"
	_m=/usr/lib/apache2/modules
	cat > "$_ad/httpd.conf" <<EOC
ServerRoot /etc/apache2
DefaultRuntimeDir $_ad/run
PidFile $_ad/run/httpd.pid
ErrorLog $_ad/error.log
LogLevel info
LoadModule mpm_event_module $_m/mod_mpm_event.so
LoadModule authz_core_module $_m/mod_authz_core.so
LoadModule ssl_module $_m/mod_ssl.so
LoadModule socache_shmcb_module $_m/mod_socache_shmcb.so
LoadModule mime_module $_m/mod_mime.so
LoadModule dir_module $_m/mod_dir.so
TypesConfig /etc/mime.types
User www-data
Group www-data
ServerName localhost
SSLSessionCache shmcb:$_ad/run/scache(512000)
DocumentRoot $_ad/htdocs
<Directory $_ad/htdocs>
	Require all granted
</Directory>
EOC
	for _p in "$@"; do echo "Listen 127.0.0.1:$_p"; done >> "$_ad/httpd.conf"
}

apache_stop() {
	[ -f "$1/run/httpd.pid" ] || return 0
	_p=$(cat "$1/run/httpd.pid")
	kill -TERM "$_p" 2>/dev/null || return 0
	_n=50
	while [ $_n -gt 0 ] && kill -0 "$_p" 2>/dev/null; do
		sleep 0.1; _n=$((_n - 1))
	done
}
