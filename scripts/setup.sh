#!/usr/bin/env bash
# Prepares a Debian bookworm machine (as root) for building and testing health-pki, then installs
# the npm packages. Idempotent: Debian packages are installed only when missing, and `apt-get update`
# runs only when something must be installed. Node.js 20 and npm come with the machine.
#
# Java: the tests run packages/pki/test/java/BcCheck.java as a single-file source program
# (`java BcCheck.java`), which needs the jdk.compiler module. On bookworm the JRE package
# openjdk-17-jre-headless already ships it: its lib/modules image holds jdk.compiler and it ships
# lib/ct.sym, while openjdk-17-jdk-headless adds only javac, jar, jmods and other tools. Checked by
# copying only the files of openjdk-17-jre-headless (dpkg -L) to a scratch directory and running
# `java -cp bcprov.jar Hello.java` from there: it compiled and ran. So default-jre-headless is
# enough; the check below still installs default-jdk-headless if a `java` without jdk.compiler shows up.
#
# BouncyCastle 1.72: libbcpkix-java needs libbcutil-java (CMS ASN.1 classes), listed here explicitly.
# softhsm2: PKCS#11 tests (SOFTHSM2_CONF points at a temporary token directory).
# golang-cfssl: the bench compares issuance with `cfssl serve` (CFSSL is what people use instead).
# ldap-utils: ldapsearch reads the certificate directory in the tests, as relying parties do.
# wrk: the HTTP load generator of the OCSP benchmark (a separate process, as relying parties are).
# chromium: the browser tests of the web interface and the EMR example drive it with playwright-core.
# fonts-wqy-microhei: a Chinese font, so that the zh-CN screenshots show characters, not empty boxes.
set -euo pipefail
if (($#)); then
  echo "usage: bash scripts/setup.sh   (no arguments; installs Debian packages if missing, then runs npm ci)" >&2
  exit 2
fi
cd "$(dirname "$0")/.."

export DEBIAN_FRONTEND=noninteractive
PACKAGES=(openssl default-jre-headless libbcprov-java libbcpkix-java libbcutil-java softhsm2 golang-cfssl ldap-utils wrk chromium fonts-wqy-microhei)

installed() {
  # dpkg -s also succeeds for removed packages whose config files remain, so read the status.
  [[ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null || true)" == "install ok installed" ]]
}

updated=no
apt_install() {
  if [[ $updated == no ]]; then
    apt-get update -qq
    updated=yes
  fi
  apt-get install -y -qq --no-install-recommends "$@"
}

missing=()
for p in "${PACKAGES[@]}"; do installed "$p" || missing+=("$p"); done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}" >&2
  apt_install "${missing[@]}"
fi

if ! java --list-modules 2>/dev/null | grep -q '^jdk\.compiler@'; then
  echo "setup: this java cannot run source files (no jdk.compiler); installing default-jdk-headless" >&2
  apt_install default-jdk-headless
fi
for jar in bcprov bcpkix bcutil; do
  [[ -r /usr/share/java/$jar.jar ]] || { echo "setup: /usr/share/java/$jar.jar missing" >&2; exit 1; }
done

node_major=$(node -p 'process.versions.node.split(".")[0]')
if ((node_major < 20)); then
  echo "setup: Node.js >= 20 is required, found $(node -v)" >&2
  exit 1
fi

# Always a clean install from package-lock.json: cheap enough, and never stale.
npm ci --no-audit --no-fund
