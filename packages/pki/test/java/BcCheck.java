// An outside verifier for tests: BouncyCastle checks many objects in one JVM start.
//
// Run: java -cp /usr/share/java/bcprov.jar:/usr/share/java/bcpkix.jar:/usr/share/java/bcutil.jar BcCheck.java <jobfile>
// The job file has one job per line (blank lines and lines starting with # are skipped), fields
// separated by whitespace; files are DER:
//   cert <certPath> <issuerCertPath>       signature of the certificate under the issuer's key
//   csr  <csrPath>                         self-signature of a PKCS#10 request
//   crl  <crlPath> <issuerCertPath>        signature of the CRL under the issuer's key
//   cms  <cmsPath> [<detachedContentPath>] every SignerInfo of a SignedData against its embedded cert;
//                                          GM/T 0010 content types and sm2-1 signerInfo algorithm accepted
//   ocsp <respPath> [<responderCertPath>]  BasicOCSPResponse signature (embedded cert if no path)
//   tsp  <respOrTokenPath> [<dataPath>]   RFC 3161 token, or a TimeStampResp holding one: BC's
//                                          TimeStampToken.validate with the embedded signer certificate
//                                          (ESS certificate hash and issuerSerial, critical sole timeStamping
//                                          EKU, validity at genTime, signature; sm2-1 read as for cms), and
//                                          the messageImprint against the data when given
//   tsp-issue <tsaCertPath> <tsaKeyPkcs8Path> <requestPath>
//                                          not a check: BC's own TSA (TimeStampResponseGenerator, ESS v2
//                                          with SHA-256, or SM3 for an SM2 key) answers the request, so that
//                                          tests can verify a token made outside; prints "resp=<hex>"
//   path <anchorPath> <certPath>... [crl=<crlPath>]... [at=<unixSeconds>]
//                                          PKIX path validation, certificates leaf first;
//                                          revocation checking is on exactly when CRLs are given
// For each job it prints one line, numbered from 0 in job order: "OK <n> [info]" or
// "FAIL <n> <reason>". The exit code is 0 when every job was read, whatever the verdicts.
//
// SM2: BouncyCastle's SM3withSM2 Signature uses the default user ID "1234567812345678" (GM/T 0009)
// when no SM2ParameterSpec is given, and that is what every check below relies on.

import java.io.ByteArrayInputStream;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.Security;
import java.security.cert.CertPath;
import java.security.cert.CertPathValidator;
import java.security.cert.CertStore;
import java.security.cert.CertificateFactory;
import java.security.cert.CollectionCertStoreParameters;
import java.security.cert.PKIXParameters;
import java.security.cert.TrustAnchor;
import java.security.cert.X509CRL;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Date;
import java.util.List;
import java.util.Set;

import org.bouncycastle.asn1.cms.ContentInfo;
import org.bouncycastle.asn1.ASN1InputStream;
import org.bouncycastle.asn1.ASN1Sequence;
import org.bouncycastle.asn1.gm.GMObjectIdentifiers;
import org.bouncycastle.cert.X509CRLHolder;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.ocsp.BasicOCSPResp;
import org.bouncycastle.cert.ocsp.OCSPResp;
import org.bouncycastle.cert.ocsp.RevokedStatus;
import org.bouncycastle.cert.ocsp.SingleResp;
import org.bouncycastle.cert.ocsp.UnknownStatus;
import org.bouncycastle.cms.CMSProcessableByteArray;
import org.bouncycastle.cms.CMSSignedData;
import org.bouncycastle.cms.SignerInformation;
import org.bouncycastle.cms.CMSSignatureAlgorithmNameGenerator;
import org.bouncycastle.cms.DefaultCMSSignatureAlgorithmNameGenerator;
import org.bouncycastle.cms.SignerInformationVerifier;
import org.bouncycastle.jce.provider.BouncyCastleProvider;
import org.bouncycastle.operator.ContentVerifierProvider;
import org.bouncycastle.operator.DefaultAlgorithmNameFinder;
import org.bouncycastle.operator.DefaultSignatureAlgorithmIdentifierFinder;
import org.bouncycastle.operator.jcajce.JcaDigestCalculatorProviderBuilder;
import org.bouncycastle.operator.jcajce.JcaContentVerifierProviderBuilder;
import org.bouncycastle.operator.DigestCalculator;
import org.bouncycastle.pkcs.PKCS10CertificationRequest;
import org.bouncycastle.tsp.TimeStampResponse;
import org.bouncycastle.tsp.TimeStampToken;
import org.bouncycastle.tsp.TimeStampTokenInfo;
import org.bouncycastle.util.Store;

public class BcCheck {
  /** A verdict of FAIL with a reason, as opposed to a crash of the checker. */
  static final class Failure extends Exception {
    Failure(String reason) {
      super(reason);
    }
  }

  static final DefaultAlgorithmNameFinder NAMES = new DefaultAlgorithmNameFinder();

  public static void main(String[] args) throws Exception {
    if (args.length != 1) {
      System.err.println("usage: BcCheck <jobfile>");
      System.exit(2);
    }
    Security.addProvider(new BouncyCastleProvider());
    int n = 0;
    for (String raw : Files.readAllLines(Path.of(args[0]))) {
      String line = raw.trim();
      if (line.isEmpty() || line.startsWith("#")) continue;
      String verdict;
      try {
        String info = run(line.split("\\s+"));
        verdict = "OK " + n + (info.isEmpty() ? "" : " " + info);
      } catch (Failure f) {
        verdict = "FAIL " + n + " " + f.getMessage();
      } catch (Throwable e) {
        // Parsing errors and the like are verdicts too: BC would not accept the object.
        verdict = "FAIL " + n + " " + e.getClass().getSimpleName() + ": " + e.getMessage();
      }
      System.out.println(verdict.replaceAll("[\\r\\n]+", " "));
      n++;
    }
  }

  static String run(String[] t) throws Exception {
    switch (t[0]) {
      case "cert": return cert(t);
      case "csr": return csr(t);
      case "crl": return crl(t);
      case "cms": return cms(t);
      case "ocsp": return ocsp(t);
      case "tsp": return tsp(t);
      case "tsp-issue": return tspIssue(t);
      case "path": return path(t);
      default: throw new Failure("unknown job kind " + t[0]);
    }
  }

  static byte[] read(String p) throws Exception {
    return Files.readAllBytes(Path.of(p));
  }

  static void need(String[] t, int n, String usage) throws Failure {
    if (t.length < n) throw new Failure("usage: " + usage);
  }

  static ContentVerifierProvider verifierFor(X509CertificateHolder issuer) throws Exception {
    return new JcaContentVerifierProviderBuilder().setProvider("BC").build(issuer);
  }

  static String cert(String[] t) throws Exception {
    need(t, 3, "cert <cert> <issuer>");
    byte[] der = read(t[1]);
    X509CertificateHolder cert = new X509CertificateHolder(der);
    X509CertificateHolder issuer = new X509CertificateHolder(read(t[2]));
    // The JCA factory parses the extensions and the key too, which the holder does lazily.
    CertificateFactory.getInstance("X.509", "BC").generateCertificate(new ByteArrayInputStream(der));
    if (!cert.getIssuer().equals(issuer.getSubject())) throw new Failure("issuer name differs from the issuer certificate's subject");
    if (!cert.isSignatureValid(verifierFor(issuer))) throw new Failure("signature invalid (" + NAMES.getAlgorithmName(cert.getSignatureAlgorithm()) + ")");
    return "sigAlg=" + NAMES.getAlgorithmName(cert.getSignatureAlgorithm());
  }

  static String csr(String[] t) throws Exception {
    need(t, 2, "csr <csr>");
    PKCS10CertificationRequest req = new PKCS10CertificationRequest(read(t[1]));
    ContentVerifierProvider v = new JcaContentVerifierProviderBuilder().setProvider("BC").build(req.getSubjectPublicKeyInfo());
    if (!req.isSignatureValid(v)) throw new Failure("signature invalid (" + NAMES.getAlgorithmName(req.getSignatureAlgorithm()) + ")");
    return "sigAlg=" + NAMES.getAlgorithmName(req.getSignatureAlgorithm());
  }

  static String crl(String[] t) throws Exception {
    need(t, 3, "crl <crl> <issuer>");
    byte[] der = read(t[1]);
    X509CRLHolder crl = new X509CRLHolder(der);
    X509CertificateHolder issuer = new X509CertificateHolder(read(t[2]));
    CertificateFactory.getInstance("X.509", "BC").generateCRL(new ByteArrayInputStream(der));
    if (!crl.getIssuer().equals(issuer.getSubject())) throw new Failure("CRL issuer differs from the issuer certificate's subject");
    if (!crl.isSignatureValid(verifierFor(issuer))) throw new Failure("signature invalid (" + NAMES.getAlgorithmName(crl.toASN1Structure().getSignatureAlgorithm()) + ")");
    return "entries=" + crl.getRevokedCertificates().size();
  }

  static String cms(String[] t) throws Exception {
    need(t, 2, "cms <cms> [content]");
    byte[] der = read(t[1]);
    ContentInfo ci;
    try (ASN1InputStream in = new ASN1InputStream(der)) {
      ci = ContentInfo.getInstance(in.readObject());
    }
    CMSSignedData sd = t.length > 2 ? new CMSSignedData(new CMSProcessableByteArray(read(t[2])), ci) : new CMSSignedData(ci);
    if (sd.getSignedContent() == null) throw new Failure("no content: attached content missing and no detached content given");
    Store<X509CertificateHolder> certs = sd.getCertificates();
    Collection<SignerInformation> signers = sd.getSignerInfos().getSigners();
    if (signers.isEmpty()) throw new Failure("no SignerInfo");
    int i = 0;
    List<String> algs = new ArrayList<>();
    for (SignerInformation s : signers) {
      @SuppressWarnings("unchecked")
      Collection<X509CertificateHolder> match = certs.getMatches(s.getSID());
      if (match.isEmpty()) throw new Failure("signer " + i + ": no embedded certificate matches its SignerIdentifier");
      X509CertificateHolder signerCert = match.iterator().next();
      if (!s.verify(signerVerifier(signerCert))) throw new Failure("signer " + i + ": signature invalid");
      boolean mapped = GMObjectIdentifiers.sm2sign.getId().equals(s.getEncryptionAlgOID());
      algs.add(s.getDigestAlgOID() + "/" + s.getEncryptionAlgOID() + (mapped ? "(read-as-SM3withSM2)" : ""));
      i++;
    }
    return "contentType=" + ci.getContentType() + " eContentType=" + sd.getSignedContentTypeOID() + " signers=" + i + " algs=" + String.join(",", algs);
  }

  /**
   * GM/T 0010 puts sm2-1 (1.2.156.10197.1.301.1) in SignerInfo.signatureAlgorithm, which BC 1.72's
   * DefaultCMSSignatureAlgorithmNameGenerator does not know ("Unknown signature type requested:
   * SM3WITH1.2.156.10197.1.301.1"). With an SM3 digest it means SM3withSM2, so it is read as that;
   * everything else goes through BC's defaults unchanged.
   */
  static SignerInformationVerifier signerVerifier(X509CertificateHolder cert) throws Exception {
    DefaultCMSSignatureAlgorithmNameGenerator bcNames = new DefaultCMSSignatureAlgorithmNameGenerator();
    CMSSignatureAlgorithmNameGenerator names = (digestAlg, encAlg) ->
        GMObjectIdentifiers.sm2sign.equals(encAlg.getAlgorithm()) && GMObjectIdentifiers.sm3.equals(digestAlg.getAlgorithm())
            ? "SM3WITHSM2"
            : bcNames.getSignatureName(digestAlg, encAlg);
    return new SignerInformationVerifier(names, new DefaultSignatureAlgorithmIdentifierFinder(),
        new JcaContentVerifierProviderBuilder().setProvider("BC").build(cert),
        new JcaDigestCalculatorProviderBuilder().setProvider("BC").build());
  }

  static String ocsp(String[] t) throws Exception {
    need(t, 2, "ocsp <resp> [responder]");
    OCSPResp resp = new OCSPResp(read(t[1]));
    if (resp.getStatus() != OCSPResp.SUCCESSFUL) throw new Failure("responseStatus=" + resp.getStatus());
    BasicOCSPResp basic = (BasicOCSPResp) resp.getResponseObject();
    X509CertificateHolder responder;
    if (t.length > 2) {
      responder = new X509CertificateHolder(read(t[2]));
    } else {
      X509CertificateHolder[] embedded = basic.getCerts();
      if (embedded.length == 0) throw new Failure("no responder certificate given and none embedded");
      responder = embedded[0];
    }
    if (!basic.isSignatureValid(verifierFor(responder))) throw new Failure("signature invalid (" + NAMES.getAlgorithmName(basic.getSignatureAlgorithmID()) + ")");
    List<String> statuses = new ArrayList<>();
    for (SingleResp r : basic.getResponses()) {
      Object st = r.getCertStatus();
      String s = st == null ? "good" : st instanceof RevokedStatus ? "revoked" : st instanceof UnknownStatus ? "unknown" : "other";
      statuses.add(r.getCertID().getSerialNumber().toString(16) + ":" + s);
    }
    return "status=" + String.join(",", statuses);
  }

  static String tsp(String[] t) throws Exception {
    need(t, 2, "tsp <resp|token> [data]");
    byte[] der = read(t[1]);
    ASN1Sequence top = ASN1Sequence.getInstance(der);
    TimeStampToken token;
    if (top.getObjectAt(0) instanceof ASN1Sequence) {
      // TimeStampResp: PKIStatusInfo first. BC checks that granted statuses carry a token.
      TimeStampResponse resp = new TimeStampResponse(der);
      if (resp.getStatus() > 1) throw new Failure("status=" + resp.getStatus() + " failInfo=" + (resp.getFailInfo() == null ? "none" : resp.getFailInfo().intValue()) + " text=" + resp.getStatusString());
      token = resp.getTimeStampToken();
    } else {
      token = new TimeStampToken(ContentInfo.getInstance(top));
    }
    @SuppressWarnings("unchecked")
    Collection<X509CertificateHolder> match = token.getCertificates().getMatches(token.getSID());
    if (match.isEmpty()) throw new Failure("no embedded certificate matches the SignerInfo (request the token with certReq)");
    X509CertificateHolder cert = match.iterator().next();
    token.validate(signerVerifier(cert)); // throws TSPValidationException with BC's reason
    TimeStampTokenInfo info = token.getTimeStampInfo();
    if (t.length > 2) {
      DigestCalculator calc = new JcaDigestCalculatorProviderBuilder().setProvider("BC").build().get(info.getHashAlgorithm());
      try (java.io.OutputStream out = calc.getOutputStream()) {
        out.write(read(t[2]));
      }
      if (!java.util.Arrays.equals(calc.getDigest(), info.getMessageImprintDigest())) throw new Failure("messageImprint does not match the data");
    }
    boolean v2 = token.getSignedAttributes().get(org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers.id_aa_signingCertificateV2) != null;
    SignerInformation si = token.toCMSSignedData().getSignerInfos().getSigners().iterator().next();
    return "genTime=" + info.getGenTime().getTime() + " serial=" + info.getSerialNumber().toString(16) + " policy=" + info.getPolicy()
        + " imprintAlg=" + info.getHashAlgorithm().getAlgorithm() + " ess=" + (v2 ? "v2" : "v1")
        + " sigAlg=" + si.getDigestAlgOID() + "/" + si.getEncryptionAlgOID() + " contentType=" + token.toCMSSignedData().toASN1Structure().getContentType();
  }

  static String tspIssue(String[] t) throws Exception {
    need(t, 4, "tsp-issue <tsaCert> <tsaKeyPkcs8> <request>");
    X509CertificateHolder cert = new X509CertificateHolder(read(t[1]));
    byte[] pkcs8 = read(t[2]);
    org.bouncycastle.asn1.pkcs.PrivateKeyInfo info = org.bouncycastle.asn1.pkcs.PrivateKeyInfo.getInstance(pkcs8);
    boolean rsa = info.getPrivateKeyAlgorithm().getAlgorithm().equals(org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers.rsaEncryption);
    boolean sm2 = !rsa && GMObjectIdentifiers.sm2p256v1.equals(info.getPrivateKeyAlgorithm().getParameters());
    java.security.PrivateKey key = java.security.KeyFactory.getInstance(rsa ? "RSA" : "EC", "BC").generatePrivate(new java.security.spec.PKCS8EncodedKeySpec(pkcs8));
    String sigAlg = sm2 ? "SM3WITHSM2" : rsa ? "SHA256WITHRSA" : "SHA256WITHECDSA";
    org.bouncycastle.operator.DigestCalculatorProvider digests = new JcaDigestCalculatorProviderBuilder().setProvider("BC").build();
    org.bouncycastle.cms.SignerInfoGenerator signerInfo = new org.bouncycastle.cms.jcajce.JcaSignerInfoGeneratorBuilder(digests)
        .build(new org.bouncycastle.operator.jcajce.JcaContentSignerBuilder(sigAlg).setProvider("BC").build(key), cert);
    DigestCalculator essHash = digests.get(new org.bouncycastle.asn1.x509.AlgorithmIdentifier(sm2 ? GMObjectIdentifiers.sm3 : org.bouncycastle.asn1.nist.NISTObjectIdentifiers.id_sha256));
    org.bouncycastle.tsp.TimeStampTokenGenerator gen = new org.bouncycastle.tsp.TimeStampTokenGenerator(signerInfo, essHash, new org.bouncycastle.asn1.ASN1ObjectIdentifier("1.2.156.112560.7.9"));
    gen.addCertificates(new org.bouncycastle.util.CollectionStore<>(List.of(cert)));
    gen.setAccuracyMillis(10);
    java.util.Set<org.bouncycastle.asn1.ASN1ObjectIdentifier> hashes = new java.util.HashSet<>(org.bouncycastle.tsp.TSPAlgorithms.ALLOWED);
    hashes.add(GMObjectIdentifiers.sm3);
    TimeStampResponse resp = new org.bouncycastle.tsp.TimeStampResponseGenerator(gen, hashes)
        .generate(new org.bouncycastle.tsp.TimeStampRequest(read(t[3])), new BigInteger("1234567890abcdef01", 16), new Date());
    return "resp=" + org.bouncycastle.util.encoders.Hex.toHexString(resp.getEncoded());
  }

  static String path(String[] t) throws Exception {
    need(t, 3, "path <anchor> <cert>... [crl=<crl>]... [at=<unixSeconds>]");
    CertificateFactory cf = CertificateFactory.getInstance("X.509", "BC");
    X509Certificate anchor = (X509Certificate) cf.generateCertificate(new ByteArrayInputStream(read(t[1])));
    List<X509Certificate> chain = new ArrayList<>();
    List<X509CRL> crls = new ArrayList<>();
    Date at = null;
    for (int i = 2; i < t.length; i++) {
      if (t[i].startsWith("crl=")) crls.add((X509CRL) cf.generateCRL(new ByteArrayInputStream(read(t[i].substring(4)))));
      else if (t[i].startsWith("at=")) at = new Date(Long.parseLong(t[i].substring(3)) * 1000L);
      else chain.add((X509Certificate) cf.generateCertificate(new ByteArrayInputStream(read(t[i]))));
    }
    if (chain.isEmpty()) throw new Failure("path needs at least one certificate besides the anchor");
    CertPath cp = cf.generateCertPath(chain);
    PKIXParameters params = new PKIXParameters(Set.of(new TrustAnchor(anchor, null)));
    params.setSigProvider("BC");
    params.setRevocationEnabled(!crls.isEmpty());
    if (!crls.isEmpty()) params.addCertStore(CertStore.getInstance("Collection", new CollectionCertStoreParameters(crls), "BC"));
    if (at != null) params.setDate(at);
    try {
      CertPathValidator.getInstance("PKIX", "BC").validate(cp, params);
    } catch (java.security.cert.CertPathValidatorException e) {
      throw new Failure("path invalid at index " + e.getIndex() + ": " + e.getMessage());
    }
    return "length=" + chain.size() + (crls.isEmpty() ? "" : " crls=" + crls.size());
  }
}
