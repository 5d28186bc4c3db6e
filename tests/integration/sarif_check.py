"""Checks shared by the integration tests: a SARIF log is in the subset GitHub code scanning
ingests, and every rule a scan reports is documented in mlsc's rule catalogue."""
import json
import subprocess

LEVELS = {'error', 'warning', 'note', 'none'}


def catalogue(mlsc):
    """Rule id -> entry, from `mlsc rules --format json`."""
    out = subprocess.run([mlsc, 'rules', '--format', 'json'], capture_output=True, text=True,
                         check=True).stdout
    return {r['id']: r for r in json.loads(out)['rules']}


def _rule_problems(rule, where):
    problems = []
    for key in ('id', 'name'):
        if not isinstance(rule.get(key), str) or not rule[key]:
            problems.append(f'{where}: no {key}')
    for key in ('shortDescription', 'fullDescription', 'help'):
        if not (rule.get(key) or {}).get('text'):
            problems.append(f'{where} {rule.get("id")}: no {key}.text')
    if (rule.get('defaultConfiguration') or {}).get('level') not in LEVELS:
        problems.append(f'{where} {rule.get("id")}: defaultConfiguration.level missing')
    sev = (rule.get('properties') or {}).get('security-severity')
    try:
        ok = 0.0 <= float(sev) <= 10.0
    except (TypeError, ValueError):
        ok = False
    if not ok:
        problems.append(f'{where} {rule.get("id")}: properties.security-severity not 0..10')
    return problems


def _result_problems(res, i, rules):
    where = f'results[{i}]'
    problems = []
    idx = res.get('ruleIndex')
    if not isinstance(idx, int) or not 0 <= idx < len(rules) or rules[idx].get('id') != res.get('ruleId'):
        problems.append(f'{where}: ruleIndex does not point at ruleId {res.get("ruleId")}')
    if res.get('level') not in LEVELS:
        problems.append(f'{where}: level {res.get("level")!r}')
    if not (res.get('message') or {}).get('text'):
        problems.append(f'{where}: no message.text')
    locs = res.get('locations') or []
    if len(locs) != 1:
        problems.append(f'{where}: expected one location')
    for loc in locs:
        phys = loc.get('physicalLocation') or {}
        if not (phys.get('artifactLocation') or {}).get('uri'):
            problems.append(f'{where}: no artifactLocation.uri')
        if not isinstance((phys.get('region') or {}).get('startLine'), int):
            problems.append(f'{where}: no region.startLine (GitHub needs it)')
    if not (res.get('partialFingerprints') or {}):
        problems.append(f'{where}: no partialFingerprints')
    return problems


def sarif_problems(doc, known_rules):
    """Problems with a SARIF log: structure GitHub needs, and rules outside the catalogue."""
    problems = []
    if doc.get('version') != '2.1.0' or not doc.get('$schema'):
        problems.append('version must be 2.1.0 with a $schema')
    runs = doc.get('runs') or []
    if len(runs) != 1:
        return problems + ['expected exactly one run']
    run = runs[0]
    driver = ((run.get('tool') or {}).get('driver') or {})
    if driver.get('name') != 'mlsc':
        problems.append('tool.driver.name is not mlsc')
    rules = driver.get('rules') or []
    for i, rule in enumerate(rules):
        problems += _rule_problems(rule, f'rules[{i}]')
    for i, res in enumerate(run.get('results') or []):
        problems += _result_problems(res, i, rules)
        if res.get('ruleId') not in known_rules:
            problems.append(f'results[{i}]: rule {res.get("ruleId")} is not in the catalogue '
                            '(add it to data/rules/)')
    return problems
