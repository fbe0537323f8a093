# tests/integration/tomcat.sh: a private Tomcat 10.1 (Debian 12 packages
# tomcat10 and tomcat10-admin) for tests and benchmarks.  Source it (after
# lib.sh), then:
#   tomcat_conf DIR PORT MGRPORT KEYSTORE [NAME [PASSWORD [TRUSTSTORE]]]
#       makes DIR a CATALINA_BASE (conf, logs, work, temp, webapps; conf
#       files copied from /usr/share/tomcat10/etc) whose server.xml has no
#       shutdown port and two connectors:
#       - HTTPS on 127.0.0.1:PORT (NIO, JSSE): one SSLHostConfig, hostName
#         NAME (default _default_; it is also the connector's default), one
#         Certificate from the PKCS#12 KEYSTORE (certd's keystore.p12: alias
#         server), password PASSWORD (default changeit); with TRUSTSTORE
#         (certd's truststore.p12 or .jks, same password), client
#         certificates are asked for, optional, and checked against it.
#       - HTTP on 127.0.0.1:MGRPORT for the manager webapp (from
#         /usr/share/tomcat10-admin/manager, context conf/Catalina/
#         localhost/manager.xml), whose only user has role manager-script
#         and manager-jmx: name and password in DIR/manager.user and
#         DIR/manager.pass.
#   tomcat_start DIR
#       catalina.sh start (the JVM's command line names DIR), waits up to
#       60 s for "Server startup in" in DIR/logs/catalina.out; pid in
#       DIR/tomcat.pid.  Fails if a connector failed (Tomcat itself starts
#       without it) or the HTTPS port does not answer; the JVM may then be
#       running: tomcat_stop it all the same.
#   tomcat_mgr DIR PATH_AND_QUERY
#       GET http://127.0.0.1:MGRPORT/manager/text/PATH_AND_QUERY as the
#       manager user (TOMCAT_MGR_API=jmxproxy: /manager/jmxproxy/...);
#       prints the body ("OK - ..." or "FAIL - ...", or an HTML error page),
#       the HTTP code in DIR/mgr.code.
#   tomcat_ssl_reload DIR [NAME]
#       tomcat_mgr DIR "sslReload?tlsHostName=NAME" (all SSLHostConfigs of
#       every connector without NAME); prints the answer (for an HTTP error,
#       its message and root causes on one line); fails unless HTTP 200
#       and the answer starts "OK".
#   tomcat_stop DIR
#       TERM to the JVM (its shutdown hook stops Catalina), waits up to
#       20 s, then KILL.
# Register the stop at once:  on_exit 'tomcat_stop "$TC"'
# Run as root (it stays root: no user switch as with systemd).

TOMCAT_HOME=${TOMCAT_HOME:-/usr/share/tomcat10}
TOMCAT_ADMIN=${TOMCAT_ADMIN:-/usr/share/tomcat10-admin}

tomcat_conf() {
	_td=$1 _tp=$2 _tm=$3 _tk=$4 _tn=${5:-_default_} _tw=${6:-changeit} _tt=${7:-}
	mkdir -p "$_td/conf/Catalina/localhost" "$_td/logs" "$_td/work" \
	    "$_td/temp" "$_td/webapps/ROOT"
	for _f in catalina.properties context.xml logging.properties web.xml \
	    jaspic-providers.xml; do
		cp "$TOMCAT_HOME/etc/$_f" "$_td/conf/$_f"
	done
	echo "hello from tomcat" > "$_td/webapps/ROOT/index.html"
	echo "$_tp" > "$_td/https.port"
	echo "$_tm" > "$_td/manager.port"
	echo certd > "$_td/manager.user"
	[ -s "$_td/manager.pass" ] ||
		od -An -N12 -tx1 /dev/urandom | tr -d ' \n' > "$_td/manager.pass"
	chmod 600 "$_td/manager.pass"
	_ts=""
	if [ -n "$_tt" ]; then
		case $_tt in *.jks) _ty=JKS ;; *) _ty=PKCS12 ;; esac
		_ts="certificateVerification=\"optional\"
		    truststoreFile=\"$_tt\" truststoreType=\"$_ty\"
		    truststorePassword=\"$_tw\""
	fi
	cat > "$_td/conf/server.xml" <<EOC
<?xml version="1.0" encoding="UTF-8"?>
<!-- A private Tomcat for certd's tests (tests/integration/tomcat.sh). -->
<Server port="-1" shutdown="SHUTDOWN">
  <Listener className="org.apache.catalina.startup.VersionLoggerListener" />
  <Listener className="org.apache.catalina.core.JreMemoryLeakPreventionListener" />
  <Listener className="org.apache.catalina.mbeans.GlobalResourcesLifecycleListener" />
  <GlobalNamingResources>
    <Resource name="UserDatabase" auth="Container"
              type="org.apache.catalina.UserDatabase"
              factory="org.apache.catalina.users.MemoryUserDatabaseFactory"
              pathname="conf/tomcat-users.xml" readonly="true" />
  </GlobalNamingResources>
  <Service name="Catalina">
    <Connector address="127.0.0.1" port="$_tm" protocol="HTTP/1.1"
               connectionTimeout="20000" maxThreads="10" />
    <Connector address="127.0.0.1" port="$_tp"
               protocol="org.apache.coyote.http11.Http11NioProtocol"
               SSLEnabled="true" maxThreads="20"
               defaultSSLHostConfigName="$_tn">
      <SSLHostConfig hostName="$_tn" $_ts>
        <Certificate certificateKeystoreFile="$_tk"
                     certificateKeystoreType="PKCS12"
                     certificateKeystorePassword="$_tw"
                     certificateKeyAlias="server" />
      </SSLHostConfig>
    </Connector>
    <Engine name="Catalina" defaultHost="localhost">
      <Realm className="org.apache.catalina.realm.UserDatabaseRealm"
             resourceName="UserDatabase" />
      <Host name="localhost" appBase="webapps"
            unpackWARs="false" autoDeploy="false" />
    </Engine>
  </Service>
</Server>
EOC
	cat > "$_td/conf/tomcat-users.xml" <<EOC
<?xml version="1.0" encoding="UTF-8"?>
<tomcat-users xmlns="http://tomcat.apache.org/xml" version="1.0">
  <role rolename="manager-script"/>
  <role rolename="manager-jmx"/>
  <user username="certd" password="$(cat "$_td/manager.pass")"
        roles="manager-script,manager-jmx"/>
</tomcat-users>
EOC
	chmod 600 "$_td/conf/tomcat-users.xml"
	cat > "$_td/conf/Catalina/localhost/manager.xml" <<EOC
<?xml version="1.0" encoding="UTF-8"?>
<Context docBase="$TOMCAT_ADMIN/manager"
         antiResourceLocking="false" privileged="true">
  <Valve className="org.apache.catalina.valves.RemoteCIDRValve"
         allow="127.0.0.0/8, ::1/128"/>
</Context>
EOC
}

tomcat_start() {
	rm -f "$1/tomcat.pid"
	: > "$1/logs/catalina.out"
	CATALINA_HOME=$TOMCAT_HOME CATALINA_BASE=$1 CATALINA_PID=$1/tomcat.pid \
	    CATALINA_OUT=$1/logs/catalina.out CATALINA_TMPDIR=$1/temp \
	    JAVA_OPTS="-Djava.awt.headless=true ${TOMCAT_JAVA_OPTS:-}" \
	    "$TOMCAT_HOME/bin/catalina.sh" start >>"$1/logs/start.log" 2>&1 || return 1
	_n=600
	while [ $_n -gt 0 ] && ! grep -q 'Server startup in' "$1/logs/catalina.out"; do
		[ -s "$1/tomcat.pid" ] && ! kill -0 "$(cat "$1/tomcat.pid")" 2>/dev/null &&
			return 1
		sleep 0.1; _n=$((_n - 1))
	done
	grep -q 'Server startup in' "$1/logs/catalina.out" || return 1
	# A connector that fails (a keystore it cannot read) does not stop the
	# start: Tomcat runs on without that port.  Demand the TLS port.
	! grep -q 'Failed to \(initialize\|start\) component \[Connector' "$1/logs/catalina.out" &&
	    curl -sk -o /dev/null --max-time 10 "https://127.0.0.1:$(cat "$1/https.port")/"
}

tomcat_mgr() {
	_tc=$(curl -sS --max-time 60 -o "$1/mgr.body" -w '%{http_code}' \
	    -u "$(cat "$1/manager.user"):$(cat "$1/manager.pass")" \
	    "http://127.0.0.1:$(cat "$1/manager.port")/manager/${TOMCAT_MGR_API:-text}/$2")
	_tr=$?
	echo "$_tc" > "$1/mgr.code"
	cat "$1/mgr.body"
	[ $_tr -eq 0 ]
}

tomcat_ssl_reload() {
	tomcat_mgr "$1" "sslReload${2:+?tlsHostName=$2}" >/dev/null || return 1
	if [ "$(cat "$1/mgr.code")" != 200 ]; then
		# An exception while loading (bad password, missing file, no such
		# alias) is no "FAIL - " line but an HTML error page: show its
		# causes (unquoted: one line).
		# shellcheck disable=SC2046
		echo "HTTP $(cat "$1/mgr.code"):" $(sed -n \
		    -e 's|.*<p><b>Message</b> \([^<]*\)</p>.*|\1;|p' \
		    -e 's|.*<p><b>Root Cause</b></p><pre>\([^<]*\)$|\1;|p' "$1/mgr.body" |
		    sed -e 's|&#47;|/|g' -e 's|&lt;|<|g' -e 's|&gt;|>|g' -e 's|&amp;|\&|g')
		return 1
	fi
	cat "$1/mgr.body"
	case $(cat "$1/mgr.body") in OK*) ;; *) return 1 ;; esac
}

tomcat_stop() {
	[ -s "$1/tomcat.pid" ] || return 0
	_p=$(cat "$1/tomcat.pid")
	kill -TERM "$_p" 2>/dev/null || { rm -f "$1/tomcat.pid"; return 0; }
	_n=200
	while [ $_n -gt 0 ] && kill -0 "$_p" 2>/dev/null; do
		sleep 0.1; _n=$((_n - 1))
	done
	kill -KILL "$_p" 2>/dev/null
	rm -f "$1/tomcat.pid"
}
