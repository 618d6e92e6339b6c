// Sample script connector: an employee directory.
//
// Shows every part of the script host API (the global `sb`):
//   sb.params, sb.config (decrypted), sb.variables,
//   sb.http.get/post/put/patch/delete (through the hub's network policy),
//   sb.log.trace/debug/info/warn/error,
// and the result shape: {success, payload, variables} or
// {success: false, error, code, diagnostics}.
//
// With `apiBaseUrl` set it reads and writes a real HR API; without it, it uses
// the sample data below, so it works out of the box.

var VERSION = "1.0.0";

var EMPLOYEES = [
  { id: "E001", name: "Ada Lovelace", email: "ada@example.com", department: "Engineering", title: "Principal Engineer" },
  { id: "E002", name: "Grace Hopper", email: "grace@example.com", department: "Engineering", title: "Staff Engineer" },
  { id: "E003", name: "Katherine Johnson", email: "katherine@example.com", department: "Research", title: "Mathematician" },
  { id: "E004", name: "Margaret Hamilton", email: "margaret@example.com", department: "Engineering", title: "Director" },
  { id: "E005", name: "Mary Jackson", email: "mary@example.com", department: "Research", title: "Engineer" },
  { id: "E006", name: "Dorothy Vaughan", email: "dorothy@example.com", department: "Operations", title: "Supervisor" },
  { id: "E007", name: "Hedy Lamarr", email: "hedy@example.com", department: "Research", title: "Inventor" },
  { id: "E008", name: "Radia Perlman", email: "radia@example.com", department: "Operations", title: "Network Architect" }
];

// Headers for the HR API, with the decrypted API key when one is configured.
function apiHeaders() {
  var headers = { Accept: "application/json" };
  if (sb.config.apiKey) {
    headers.Authorization = "Bearer " + sb.config.apiKey;
  }
  return headers;
}

// A failure result for a non-2xx HR API answer, with the details in diagnostics.
function apiFailure(what, resp) {
  sb.log.error(what + " failed with HTTP " + resp.status);
  return {
    success: false,
    error: what + " failed: the HR API answered " + resp.status,
    code: resp.status === 404 ? "not_found" : resp.status === 401 ? "unauthorized" : "upstream_error",
    diagnostics: { statusCode: resp.status, responseBody: resp.body }
  };
}

function test() {
  sb.log.trace("test: start");
  if (sb.config.apiBaseUrl) {
    var resp = sb.http.get(sb.config.apiBaseUrl + "/health", apiHeaders());
    if (resp.status >= 400) {
      return apiFailure("The health check", resp);
    }
    return { success: true, payload: { version: VERSION, source: "api", api: resp.body } };
  }
  return {
    success: true,
    payload: { version: VERSION, source: "sample", employees: EMPLOYEES.length, company: sb.config.company }
  };
}

function lookupEmployee() {
  var id = sb.params.id;
  var email = sb.params.email;
  if (!id && !email) {
    sb.log.warn("lookupEmployee called without id or email");
    return {
      success: false,
      error: "Give id or email",
      code: "invalid_input",
      diagnostics: { accepted: ["id", "email"] }
    };
  }
  sb.log.debug("lookupEmployee: " + (id || email));
  if (sb.config.apiBaseUrl && id) {
    var resp = sb.http.get(sb.config.apiBaseUrl + "/employees/" + encodeURIComponent(id), apiHeaders());
    if (resp.status >= 400) {
      return apiFailure("Looking up " + id, resp);
    }
    return { success: true, payload: resp.body, variables: { employeeId: resp.body.id } };
  }
  var found = EMPLOYEES.filter(function (e) {
    return (id && e.id === id) || (email && e.email.toLowerCase() === String(email).toLowerCase());
  })[0];
  if (!found) {
    return {
      success: false,
      error: "No employee " + (id ? "with id " + id : "with email " + email),
      code: "not_found",
      diagnostics: { searched: id ? { id: id } : { email: email } }
    };
  }
  return { success: true, payload: found, variables: { employeeId: found.id } };
}

function listEmployees() {
  var limit = sb.params.limit;
  var department = sb.params.department;
  var employees;
  if (sb.config.apiBaseUrl) {
    var url = sb.config.apiBaseUrl + "/employees?limit=" + limit;
    if (department) {
      url += "&department=" + encodeURIComponent(department);
    }
    var resp = sb.http.get(url, apiHeaders());
    if (resp.status >= 400) {
      return apiFailure("Listing employees", resp);
    }
    employees = resp.body.employees || resp.body;
  } else {
    employees = EMPLOYEES.filter(function (e) {
      return !department || e.department.toLowerCase() === String(department).toLowerCase();
    });
  }
  var page = employees.slice(0, limit);
  sb.log.info("listEmployees: " + page.length + " of " + employees.length);
  return {
    success: true,
    payload: { employees: page, total: employees.length },
    variables: { employeeCount: employees.length }
  };
}

function createEmployee() {
  var p = sb.params;
  var problems = [];
  if (!/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(p.email)) {
    problems.push("email '" + p.email + "' is not an email address");
  }
  if (String(p.name).trim().length < 2) {
    problems.push("name is too short");
  }
  if (problems.length) {
    sb.log.warn("createEmployee refused: " + problems.join("; "));
    return { success: false, error: problems.join("; "), code: "invalid_input", diagnostics: { problems: problems } };
  }
  var employee = { name: p.name, email: p.email, department: p.department, title: p.title || "Employee" };
  if (sb.config.apiBaseUrl) {
    var resp = sb.http.post(sb.config.apiBaseUrl + "/employees", employee, apiHeaders());
    if (resp.status >= 400) {
      return apiFailure("Creating the employee", resp);
    }
    employee = resp.body;
  } else {
    // Simulated: the sample data is not changed.
    employee.id = "E" + String(100 + EMPLOYEES.length + 1);
    employee.simulated = true;
  }
  sb.log.info("createEmployee: created " + employee.id);
  return { success: true, payload: employee, variables: { employeeId: employee.id, createdBy: sb.variables.user || null } };
}

function echo() {
  sb.log.debug("echo");
  return {
    success: true,
    payload: { params: sb.params, config: sb.config, variables: sb.variables },
    variables: { echoed: true }
  };
}
