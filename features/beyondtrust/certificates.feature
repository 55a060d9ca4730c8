Feature: BeyondTrust Privileged Remote Access SSL certificates on the wire
  "Your BeyondTrust Appliance must have a valid SSL certificate installed that matches the
  hostname you have selected for your BeyondTrust site." What every appliance serves is seen
  through real TLS handshakes, as a browser or a BeyondTrust client sees it (BeyondTrust PRA
  SSL Certificates: "SSL Certificate Auto-Selection", "Create a Certificate Signed by a
  Certificate Authority", "Copy the SSL Certificate to Privileged Remote Access Failover and
  Atlas Appliances").

  Background:
    Given the BeyondTrust appliances named in the site file

  @BT-08
  Scenario: SSL certificate auto-selection serves the chosen default to clients without a matching name
    Then on every appliance, a client sending its hostname gets a certificate whose subject alternative names match it
    And on every appliance, a client that sends no SNI information gets the same certificate as a client sending the site hostname
    And on every appliance, a client whose SNI information matches nothing in the appliance database gets the same certificate as a client sending the site hostname

  @BT-09
  Scenario: The primary appliance serves a CA-signed certificate for the site hostname with its full chain
    Then the primary appliance's certificate for the site hostname is signed by a certificate authority, not self-signed
    And it verifies against the site's trusted root certificates for the site hostname
    And the appliance sends the intermediate certificates of its chain
    And it has not expired

  @BT-10
  Scenario: Failover appliances serve the primary's certificate
    Given the site has a backup appliance
    Then the primary and every backup appliance serve the identical certificate for the site hostname
    And that certificate covers the site hostname and the hostname of the primary and of every backup appliance

  @BT-11
  Scenario: Atlas traffic nodes share one certificate covering the site hostname and every traffic node
    Given the site has Atlas traffic nodes
    Then every traffic node serves one and the same certificate for the site hostname and for its own hostname
    And that certificate covers the site hostname and the hostname of every traffic node

  @BT-13
  Scenario: The client software update built with a new root certificate was installed before the switch
    "Any time you import a new root certificate to your BeyondTrust Appliance, you must send to
    BeyondTrust Technical Support a copy of the new SSL certificate ... Update your software
    following the emailed instructions." No API can show the clients' software: it is attested.
    Then the site file attests it
