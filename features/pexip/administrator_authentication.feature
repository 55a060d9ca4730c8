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
