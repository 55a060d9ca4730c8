Feature: Administrator accounts and authentication
  Users > Administrator Authentication (older versions: Users > User Authentication) and
  Users > LDAP Role Mappings (older versions: Users > LDAP Roles).

  Background:
    Given the administrator authentication settings of the primary deployment

  @AUTH-01
  Scenario: Administrators are authenticated against the LDAP database only
    Then "Authentication source" is "LDAP database"

  @AUTH-02
  Scenario: The LDAP server connection is the site's and is not insecure
    Then the LDAP server address, LDAP bind username and LDAP base DN are the site's
    And the LDAP bind password is the site's
    And "Allow insecure transport" is not selected
    And the LDAP bind username is a service account, not "Administrator" or "admin"

  @AUTH-03
  Scenario: Every administrator role is mapped to at least one LDAP group
    Given the administrator roles of the primary deployment
    And the LDAP role mappings of the primary deployment
    Then every administrator role is mapped to at least one LDAP group

  @AUTH-04
  Scenario: Administrators must present a client certificate
    Then "Require client certificate" is one of the Required options

  @AUTH-05
  Scenario: Without a client certificate whose identity is in LDAP, the Management Node cannot be used
    Then the API refuses a request without a client certificate, even with the local administrator's password
    And the Administrator interface offers no password login page without a client certificate
    And a client certificate whose identity is in no directory is refused by the API and the Administrator interface
    And a client certificate with the administrator's identity that no trusted CA signed is refused
    And the administrator's client certificate is accepted by the API and the Administrator interface

  @AUTH-06
  Scenario: The local administrator account can no longer log in
    Then the local administrator's user name and password are refused by the API and the login form
    And a client certificate naming the local administrator account is refused
