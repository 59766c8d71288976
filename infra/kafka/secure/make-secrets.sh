#!/usr/bin/env bash
# Makes what docker-compose.secure.yml mounts, in DIR (default .secrets/kafka at the repository root):
#   DIR/ca.key, DIR/broker.pem, DIR/broker.key   the CA's key and the broker's certificate (kept out of the containers)
#   DIR/broker/ca.pem                            the CA certificate: the broker's trust store and every client's ssl.ca.location
#   DIR/broker/kafka.keystore.p12                the broker's key and certificate (PKCS12; SAN kafka and localhost)
#   DIR/broker/keystore-password                 the keystore's password (the image reads it from this file)
#   DIR/broker/<user>.password                   a random SCRAM password per Kafka user: admin (the broker itself),
#                                                ops (kafka-init), edge, noc, siem, topk, files
#   DIR/broker/kafka_server_jaas.conf            the broker's own SCRAM login (admin), for inter-broker connections
#   DIR/broker/admin.properties                  a Kafka tool's settings as admin (the healthcheck uses it)
# It never overwrites: run it once, keep DIR (with the rest of your secrets, not in git), and delete DIR to start over.
# DIR is 0700 so no other user of the host reads it; the files inside are readable by the containers' own users.
set -euo pipefail
here="$(cd "$(dirname "$0")/../../.." && pwd)"
dir="${1:-$here/.secrets/kafka}"
users=(admin ops edge noc siem topk files)

if [[ -e "$dir/broker/kafka.keystore.p12" ]]; then
  echo "make-secrets: $dir already holds Kafka secrets; delete it to make new ones" >&2
  exit 1
fi
mkdir -p "$dir/broker"
chmod 0700 "$dir"
chmod 0755 "$dir/broker"
cd "$dir"

openssl req -x509 -newkey rsa:3072 -nodes -keyout ca.key -out broker/ca.pem -days 825 -subj "/CN=pipeline Kafka CA" 2>/dev/null
openssl req -newkey rsa:3072 -nodes -keyout broker.key -out broker.csr -subj "/CN=kafka" 2>/dev/null
printf 'subjectAltName=DNS:kafka,DNS:localhost\nextendedKeyUsage=serverAuth,clientAuth\n' > broker.ext
openssl x509 -req -in broker.csr -CA broker/ca.pem -CAkey ca.key -set_serial "0x$(openssl rand -hex 16)" -days 825 -extfile broker.ext -out broker.pem 2>/dev/null
rm -f broker.csr broker.ext

openssl rand -hex 24 > broker/keystore-password
openssl pkcs12 -export -in broker.pem -inkey broker.key -certfile broker/ca.pem -name kafka \
  -out broker/kafka.keystore.p12 -passout file:broker/keystore-password
for user in "${users[@]}"; do openssl rand -hex 24 > "broker/$user.password"; done
admin="$(cat broker/admin.password)"
cat > broker/kafka_server_jaas.conf <<JAAS
KafkaServer {
  org.apache.kafka.common.security.scram.ScramLoginModule required
  username="admin"
  password="$admin";
};
JAAS
cat > broker/admin.properties <<PROPERTIES
security.protocol=SASL_SSL
sasl.mechanism=SCRAM-SHA-512
sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="admin" password="$admin";
ssl.truststore.type=PEM
ssl.truststore.location=/etc/kafka/secrets/ca.pem
PROPERTIES
chmod 0600 ca.key broker.key
chmod 0644 broker/*
echo "make-secrets: Kafka secrets for users ${users[*]} in $dir"
