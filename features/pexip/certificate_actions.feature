Feature: Certificate actions
  What the guide to TLS and trusted CA certificates (and the Secure Mode guide's CSR sections)
  says happens when an administrator uploads, requests, completes, renews, imports, downloads and
  exports certificates. Performed on the site's scratch Management Node, never on a verified one.

  Background:
    Given a scratch Management Node
    And a test certificate authority

  @TLS-10
  Scenario: A certificate and a private key that are not a key pair are refused
    When a certificate is uploaded with the private key of another certificate
    Then the upload is refused with "Certificate and private key do not appear to be part of the same key pair"

  @TLS-10
  Scenario: A certificate signing request is refused as a certificate
    When a certificate signing request is uploaded as a certificate
    Then the upload is refused

  @TLS-10
  Scenario Outline: RSA and ECDSA keys are accepted
    When a certificate with an <kind> key is uploaded with its private key
    Then the upload is accepted

    Examples:
      | kind  |
      | RSA   |
      | ECDSA |

  @TLS-10
  Scenario: An encrypted private key needs its passphrase
    When a certificate is uploaded with its encrypted private key and no passphrase
    Then the upload is refused
    When it is uploaded again with the passphrase
    Then the upload is accepted

  @TLS-10
  Scenario: Several certificates may be pasted when one pairs with the key, and DH parameters appended
    When a server certificate, its intermediate and DH parameters are pasted together with the server's private key
    Then the upload is accepted
    And the stored certificate is the server certificate with its intermediate and the DH parameters

  @TLS-11
  Scenario: A certificate whose subject exists is added alongside; an identical one is not
    When a certificate is uploaded
    And another certificate with the same subject from another issuer is uploaded
    Then both certificates are listed
    When the first certificate is uploaded again
    Then there are still exactly two certificates with that subject

  @TLS-11
  Scenario: Assigning a certificate to a node replaces that node's previous certificate
    When a certificate is uploaded
    And it is assigned to a Conferencing Node
    Then the Conferencing Node's certificate is the new one
    And its previous certificate is no longer assigned to it

  @TLS-12
  Scenario: Each certificate shows the guide's status value
    When certificates of each kind are uploaded
    Then their statuses are "Good", "Weak signature", "Empty subject", "20 days left" and "Expired"
    And the shipped certificates have the status "Temporary"
    And the validity dates the API reports agree with each certificate

  @TLS-13
  Scenario: A node with no certificate raises an alarm
    When a Conferencing Node's certificate is removed
    Then an alarm says that node has no certificate

  @TLS-13
  Scenario: An incomplete chain of trust raises an alarm
    When a certificate from an issuer that is not trusted is assigned to a Conferencing Node
    Then an alarm says the chain of trust is incomplete

  @TLS-13
  Scenario: A certificate that expires within 30 days raises an alarm
    When a trusted CA certificate that expires in 20 days is uploaded
    Then an alarm says a certificate expires within 30 days

  @TLS-14
  Scenario: Certificates download as PEM or PKCS#12, with the private key only under a passphrase
    When a CA-signed certificate is uploaded
    Then it downloads as PEM named "_certificate.pem"
    And its private key is included only with a passphrase
    And it downloads as PKCS#12 with a passphrase
    And several certificates download together as "all_certificates.pem"
    And a temporary certificate cannot be downloaded

  @TLS-15
  Scenario: The shipped self-signed certificates have a 4096-bit key and 2048-bit DH parameters
    Then every shipped temporary certificate has a 4096-bit key and 2048-bit DH parameters

  @CSR-01
  Scenario: Generated CSRs request serverAuth and clientAuth
    When a certificate signing request is generated for a Conferencing Node's FQDN
    Then the request asks for serverAuth and clientAuth extended key usage

  @CSR-02
  Scenario: A CSR may name any node's FQDN or a custom Common Name
    When a certificate signing request is generated for every node's FQDN
    And one for the custom Common Name "192.0.2.99"
    Then every request is accepted

  @CSR-03
  Scenario: The private key is RSA 2048 by default; an uploaded encrypted ECC key may be used
    When a certificate signing request is generated without a key type
    Then its key is RSA 2048
    When a certificate signing request is generated with an uploaded encrypted ECC key
    Then the request carries that key

  @CSR-04
  Scenario: The Common Name is in the SANs, with the additional SANs and subject fields
    When a certificate signing request is generated with the additional SANs "meet.accord.test, 192.0.2.80" and the subject fields "O=Accord,OU=Video,L=Oslo,ST=Oslo,C=NO"
    Then the request's SANs are the Common Name followed by the additional names
    And its subject has O "Accord", OU "Video", L "Oslo", ST "Oslo" and C "NO"

  @CSR-05
  Scenario: The Microsoft certificate template extension is off by default and there when asked
    When a certificate signing request is generated
    Then the request has no Microsoft certificate template extension
    When a certificate signing request is generated with the Microsoft template extension
    Then the request has the "WebServer" template extension

  @CSR-06
  Scenario: A CSR downloads as <subject-name>.csr and never with the private key
    When a certificate signing request is generated
    Then it downloads as its subject name with .csr and without the private key

  @CSR-07
  Scenario: A CSR cannot be modified
    When a certificate signing request is generated
    And its additional SANs are changed
    Then the change is refused

  @CSR-08
  Scenario: Completing a CSR needs a certificate for its key; then the key is linked and the CSR deleted
    When a certificate signing request is generated
    And it is completed with a certificate for another key
    Then the completion is refused with "Certificate and private key do not appear to be part of the same key pair"
    When it is completed with the certificate the CA signed
    Then the certificate is listed with the request's private key and the request is gone

  @CSR-09
  Scenario: A renewal replaces the certificate, keeps its node, and the node serves the new one
    Given a Conferencing Node with a certificate the test CA signed through a CSR
    When a renewal request is made from that certificate, signed and completed
    Then the node's certificate is the renewed one, under the same assignment
    And the node's SIP TLS handshake shows the new serial number

  @CSR-10
  Scenario: A renewal request keeps the certificate's key and may add SANs
    When a renewal request is made from an uploaded certificate adding the SAN "extra.accord.test"
    Then the request has the certificate's key and subject, its SANs and the added one

  @CSR-10
  Scenario: No renewal request from a temporary self-signed certificate
    When a renewal request is made from a temporary certificate
    Then the request is refused with "It was not possible to automatically create a certificate signing request from this certificate"

  @CA-02
  Scenario: Import sorts CA and server certificates, ignores duplicates, adds a same-subject CA alongside
    When a PEM bundle of a root, an intermediate and a server certificate with its key is imported
    Then the root and intermediate are trusted CA certificates and the server certificate a TLS one
    When the same bundle is imported again
    Then nothing is added
    When a CA certificate with the same subject but another key is imported
    Then both CA certificates with that subject are listed

  @CA-03
  Scenario: Export, view, edit and delete trusted CA certificates
    When the test CA's root and intermediate are uploaded as trusted CA certificates
    Then the export is "ca-certificates.pem" with every custom trusted CA certificate
    And each shows its decoded subject, issuer and validity
    And a trusted CA certificate's PEM can be replaced and a certificate deleted
