Feature: Contingency deployment
  A secondary deployment that mimics the primary installation, except that it keeps the local
  admin account, does not use certificate-based authentication and is deployed without licensing.

  Background:
    Given the contingency deployment named in the site file

  @CONT-01
  Scenario: The contingency deployment mirrors the primary's secure configuration
    Then it follows the same baseline as the primary deployment, apart from the listed exceptions

  @CONT-02
  Scenario: The contingency deployment authenticates against LDAP and the local database
    Then its "Authentication source" is "LDAP database and local database"

  @CONT-03
  Scenario: The contingency deployment does not require client certificates
    Then its "Require client certificate" is "Not required"

  @CONT-04
  Scenario: The contingency deployment has no licenses
    Then it has no licenses
