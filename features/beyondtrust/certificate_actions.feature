Feature: BeyondTrust PRA certificate actions in /appliance > Security > Certificates
  What the guide "BeyondTrust Privileged Remote Access SSL Certificates" says happens when an
  administrator creates, requests, imports, exports, renews and replaces certificates. A real
  appliance has no certificate API, so these actions are performed on the simulator's scratch
  appliance (never on a verified one); on a live site they are reported not run.

  Background:
    Given a factory-fresh scratch appliance
    And a throwaway test certificate authority

  @BT-01
  Scenario: The factory "BeyondTrust Appliance" certificate is listed with its warning and may not be removed
    Then Security :: Certificates lists the "BeyondTrust Appliance" certificate with a warning
    Given a self-signed certificate is the default
    When the "BeyondTrust Appliance" certificate is deleted
    Then the appliance refuses: "The factory default configuration may not be removed."
    And Security :: Certificates still lists the "BeyondTrust Appliance" certificate

  @BT-02
  Scenario: A self-signed certificate is created from a friendly name, a key, a subject name and subject alternative names
    When a self-signed certificate is created with the guide's example subject name and the alternative names "support.example.org" and "*.example.org"
    Then Security :: Certificates lists it under its friendly name, issued to and by its common name
    And its subject name holds the country, state, city, organization, organizational unit and common name entered
    And its key is the size chosen
    And its alternative names are "support.example.org" and "*.example.org", the wildcard included
    And it has a private key

  @BT-02
  Scenario: The country must be the organization's two-character code
    When a self-signed certificate is created with the country "USA"
    Then the appliance refuses the field "country"
    And no certificate was added

  @BT-02
  Scenario: A fully qualified domain name entered as the common name must be re-entered as the first SAN entry
    When a self-signed certificate is created with the common name "support.example.org" and the alternative names "remote.example.org" and "support.example.org"
    Then the appliance refuses the field "alternative_names"
    And no certificate was added
    When a self-signed certificate is created with the common name "support.example.org" and the alternative names "support.example.org" and "remote.example.org"
    Then Security :: Certificates lists it under its friendly name, issued to and by its common name

  @BT-02
  Scenario: Customers with a cloud site environment cannot create a self-signed certificate
    Given the scratch appliance is part of a cloud site
    When a self-signed certificate is created with the guide's example subject name and the alternative names "support.example.org" and "*.example.org"
    Then the appliance refuses: "Customers with a cloud site environment cannot create a self-signed certificate."
    And no certificate was added

  @BT-03
  Scenario: A certificate signing request lists its subject, alternative names and fingerprint; its request data is PEM and its key stays on the appliance
    When a certificate request is created with the guide's example subject name and the alternative names "support.example.org" and "*.example.org"
    Then the certificate requests list it with its subject, its alternative names and a fingerprint
    And its request data is a PEM certificate request for that subject and those alternative names
    And the request data holds no private key
    And no certificate was added

  @BT-04
  Scenario Outline: A certificate is imported as <format> (<filename>)
    Given a server certificate issued by the test certificate authority
    When it is imported as the file "<filename>" in <format>
    Then Security :: Certificates lists it, without a private key

    Examples:
      | format                            | filename    |
      | DER-encoded X.509                 | server.cer  |
      | DER-encoded X.509                 | server.der  |
      | PEM-wrapped DER-encoded X.509     | server.pem  |
      | PEM-wrapped DER-encoded X.509     | server.b64  |
      | DER-encoded PKCS #7               | server.p7b  |

  @BT-04
  Scenario: A PKCS#12 file is imported with its password, with its private key and chain
    Given a server certificate issued by the test certificate authority
    When its PKCS#12 file with its private key and chain is imported with a wrong password
    Then the import is refused and nothing was added
    When its PKCS#12 file with its private key and chain is imported with its password
    Then Security :: Certificates lists it, with a private key
    And Security :: Certificates lists its intermediate and root certificates

  @BT-04
  Scenario Outline: A file that is not a certificate is refused and changes nothing: <what>
    When <what> is imported
    Then the import is refused and nothing was added

    Examples:
      | what                                 |
      | a file of garbage                    |
      | a truncated DER certificate          |
      | a private key without its certificate |

  @BT-04
  Scenario: Installing the signed certificate links it to the private key of its certificate request
    Given a certificate request created on the appliance for "support.example.org"
    When the certificate authority signs the request data and the signed certificate is imported
    Then Security :: Certificates lists it, with a private key
    And the certificate request is no longer pending
    And it can be made the default

  @BT-05
  Scenario: A certificate whose intermediate and root are missing shows a warning until they are imported
    Given a server certificate issued by the test certificate authority
    When only the server certificate is imported
    Then it shows a warning beneath its name
    When the intermediate certificate is imported
    Then it shows a warning beneath its name
    When the root certificate is imported
    Then it shows no warning
    And the intermediate certificate is told apart: Issued To differs from Issued By
    And the root certificate is told apart: Issued To equals Issued By
    And the server certificate is told apart from both

  @BT-06
  Scenario: Each export format holds what the guide says, and the private key only behind the passphrase
    Given a server certificate with its private key and chain on the appliance
    When the certificate alone is exported
    Then the file is DER holding just the server certificate
    When the private key alone is exported with a passphrase
    Then the file is a PKCS#8 private key that opens only with the passphrase and pairs with the certificate
    When the certificate and its chain are exported together
    Then the file is PKCS#7 holding the server, intermediate and root certificates
    When the certificate is exported with its private key and chain and a passphrase
    Then the file is PKCS#12 that opens only with the passphrase, holding the certificate, its private key and its chain

  @BT-07
  Scenario: The bundle for BeyondTrust Technical Support holds the certificate chain and no private key file
    Given a server certificate with its private key and chain on the appliance
    And it is the default
    When the bundle for BeyondTrust Technical Support is prepared
    Then the .zip archive holds the server, intermediate and root certificates
    And it holds no private key file (.p12, .pfx or .key) and no private key in any file

  @BT-12
  Scenario: The renewed certificate is told apart by its later expiration, becomes the default, and the old one is removed
    Given the site certificate for "access.example.org" is the default, expiring in 20 days
    When the renewed certificate for "access.example.org", expiring in a year, is imported
    Then Security :: Certificates lists both, the renewed one with the later expiration
    When the renewed certificate is made the default
    Then clients sending "access.example.org", and clients sending no SNI, get the renewed certificate
    When the old certificate is removed
    Then Security :: Certificates no longer lists the old certificate
    And clients sending "access.example.org" still get the renewed certificate

  @BT-13
  Scenario: A certificate from another certificate authority replaces the current one, the new root imported first
    Given the site certificate for "access.example.org" is the default, expiring in 20 days
    And another certificate authority
    When the other certificate authority's root certificate is imported
    Then Security :: Certificates lists it as a root: Issued To equals Issued By
    And clients sending "access.example.org" still get the current certificate
    When a certificate request for "access.example.org" is signed by the other certificate authority and installed with its intermediate
    Then the new certificate shows no warning
    When the new certificate is made the default
    Then clients sending "access.example.org" get the new certificate, with a chain to the other certificate authority's root
