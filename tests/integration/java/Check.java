/*
 * Check.java: a Java 17 TLS client for the trust-store tests, run as a
 * single-file program (java Check.java HOST PORT).  It loads the trust store
 * named by javax.net.ssl.trustStore itself first and prints its anchors, so
 * a test can prove our file was read (JSSE silently falls back to cacerts
 * when the file is missing or unreadable), then connects with the default
 * SSLContext, which reads the same properties.
 * "Check serve PORT" is the other side: a one-connection TLS server on
 * 127.0.0.1 whose key and chain come from javax.net.ssl.keyStore.
 */
import java.io.FileInputStream;
import java.io.InputStream;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.util.Collections;
import java.io.OutputStream;
import java.net.InetAddress;
import javax.net.ssl.SSLServerSocket;
import javax.net.ssl.SSLServerSocketFactory;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.SSLSocketFactory;

public class Check {
	static void serve(int port) throws Exception {
		SSLServerSocketFactory f =
		    (SSLServerSocketFactory)SSLServerSocketFactory.getDefault();
		try (SSLServerSocket ss = (SSLServerSocket)f.createServerSocket(port,
		    1, InetAddress.getByName("127.0.0.1"))) {
			System.out.println("listening " + port);
			System.out.flush();
			ss.setSoTimeout(20000);
			try (SSLSocket s = (SSLSocket)ss.accept()) {
				s.startHandshake();
				OutputStream o = s.getOutputStream();
				o.write("hello\n".getBytes());
				o.flush();
			}
		}
	}

	public static void main(String[] args) throws Exception {
		if (args.length == 2 && args[0].equals("serve")) {
			serve(Integer.parseInt(args[1]));
			return;
		}
		String path = System.getProperty("javax.net.ssl.trustStore");
		String type = System.getProperty("javax.net.ssl.trustStoreType",
		    KeyStore.getDefaultType());
		String pw = System.getProperty("javax.net.ssl.trustStorePassword");
		if (path != null) {
			KeyStore ks = KeyStore.getInstance(type);
			try (InputStream in = new FileInputStream(path)) {
				ks.load(in, pw == null ? null : pw.toCharArray());
			}
			int anchors = 0;
			for (String a : Collections.list(ks.aliases())) {
				if (ks.isCertificateEntry(a))
					anchors++;
			}
			System.out.println("anchors " + anchors + " type " + type);
		}
		if (args.length < 2)
			return;
		SSLSocketFactory f = (SSLSocketFactory)SSLSocketFactory.getDefault();
		try (SSLSocket s = (SSLSocket)f.createSocket(args[0],
		    Integer.parseInt(args[1]))) {
			s.startHandshake();
			X509Certificate leaf = (X509Certificate)
			    s.getSession().getPeerCertificates()[0];
			System.out.println("handshake ok " +
			    leaf.getSubjectX500Principal().getName());
		} catch (Exception e) {
			System.out.println("handshake failed " + e);
			Throwable c = e.getCause();
			while (c != null) {
				System.out.println("cause " + c);
				c = c.getCause();
			}
			System.exit(1);
		}
	}
}
