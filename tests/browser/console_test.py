"""The console in a real browser (headless Chromium through chromedriver), against a running
closedloop with the demo data (`serve --demo`): one complaint walked from 受理 to 归档 by an
operator, a department and a supervisor in three browser sessions — with a return, an extension
approved and a dissatisfied callback that reopens the case; a department opening another
department's case gets the 404 page; a page out of date is refused with its message; a create
sent twice makes one case; the larger-text mode is remembered; the knowledge base (知识库) is
searched and read, suggests its policies beside the 受理 form while a consultation is logged, and
keeps a replied consultation as a draft (存为知识); and axe-core finds no serious or critical
accessibility violation on any screen. Screenshots of every screen go to --shots.

Usage: console_test.py --base http://127.0.0.1:PORT --shots DIR --axe PATH/axe.min.js
"""

import argparse
import json
import os
import sys
import time
import urllib.parse
import urllib.request

from selenium import webdriver
from selenium.common.exceptions import TimeoutException, WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import Select, WebDriverWait

PASSWORD = "demo"


class Failure(Exception):
    pass


def check(ok, message):
    if not ok:
        raise Failure(message)


class Person:
    """One browser session: one person at their own window."""

    def __init__(self, args, name):
        self.args, self.name = args, name
        options = webdriver.ChromeOptions()
        options.binary_location = args.chromium
        for flag in (
            "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
            "--disable-quic", "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--lang=zh-CN",
            "--window-size=1280,1000",
        ):
            options.add_argument(flag)
        self.driver = webdriver.Chrome(service=Service(args.chromedriver), options=options)
        self.driver.set_page_load_timeout(30)
        self.wait = WebDriverWait(self.driver, 10)

    def go(self, path):
        self.driver.get(self.args.base + path)

    def click_to_new_page(self, button):
        """Clicks a button that posts a form, and waits until the next page has loaded. The old
        document is marked first: an element of it cannot be asked once the page is gone
        (chromedriver then answers stale, or "no such node", depending on timing)."""
        self.driver.execute_script("window.__leaving = true")
        button.click()

        def arrived(d):
            try:
                return d.execute_script(
                    "return !window.__leaving && document.readyState === 'complete'")
            except WebDriverException:
                return False  # between documents
        self.wait.until(arrived)

    def shot(self, screen):
        path = os.path.join(self.args.shots, f"{screen}.png")
        self.driver.execute_script("window.scrollTo(0, 0)")
        # The whole page, not only the window: a person looks at all of it.
        height = self.driver.execute_script("return document.documentElement.scrollHeight")
        self.driver.set_window_size(1280, max(1000, min(height + 40, 6000)))
        self.driver.save_screenshot(path)
        self.driver.set_window_size(1280, 1000)
        self.audit(screen)

    def audit(self, screen):
        """axe-core in the page: no serious or critical violation."""
        with open(self.args.axe, encoding="utf-8") as f:
            self.driver.execute_script(f.read())
        result = self.driver.execute_async_script(
            "const done = arguments[arguments.length - 1];"
            "axe.run(document, {resultTypes: ['violations']}).then(r => done(r.violations))"
            ".catch(e => done([{id: 'axe-error', impact: 'critical', help: String(e), nodes: []}]));"
        )
        bad = [v for v in result if v.get("impact") in ("serious", "critical")]
        for v in bad:
            targets = [n.get("target") for n in v.get("nodes", [])][:5]
            print(f"  axe {screen}: {v['impact']} {v['id']}: {v['help']} {targets}", file=sys.stderr)
        check(not bad, f"{screen}: {len(bad)} serious or critical accessibility violation(s)")
        AUDITED.append(screen)

    def sign_in(self, username):
        self.go("/login")
        self.driver.find_element(By.NAME, "username").send_keys(username)
        self.driver.find_element(By.NAME, "password").send_keys(PASSWORD)
        self.driver.find_element(By.CSS_SELECTOR, "[data-control=login]").click()
        self.wait.until(lambda d: "/login" not in d.current_url)

    def state(self):
        found = self.driver.find_elements(By.CSS_SELECTOR, "h1 ~ [data-field=state]")
        if not found:
            return f"(no case on {self.driver.current_url}: {self.driver.find_element(By.TAG_NAME, 'main').text[:300]})"
        notices = self.driver.find_elements(By.CSS_SELECTOR, ".notice, .field-error")
        state = found[0].get_attribute("data-state")
        self.last_notice = " / ".join(n.text for n in notices)
        return state

    def act(self, action, fields=(), selects=(), radios=(), multi=()):
        """Opens an action's form on the case page, fills it, sends it, and waits for the answer."""
        summary = self.wait.until(
            EC.element_to_be_clickable((By.CSS_SELECTOR, f"summary[data-open={action}]"))
        )
        summary.click()
        form = summary.find_element(By.XPATH, "./following-sibling::form")
        for name, value in fields:
            box = form.find_element(By.NAME, name)
            box.clear()
            box.send_keys(value)
        for name, value in selects:
            Select(form.find_element(By.NAME, name)).select_by_value(value)
        for name, value in multi:
            Select(form.find_element(By.NAME, name)).select_by_value(value)
        for name, value in radios:
            form.find_element(By.CSS_SELECTOR, f"input[name={name}][value={value}]").click()
        # The answer is a new page.
        self.click_to_new_page(form.find_element(By.CSS_SELECTOR, f"[data-action={action}]"))

    def offers(self):
        return {e.get_attribute("data-open") for e in self.driver.find_elements(By.CSS_SELECTOR, "summary[data-open]")}

    def quit(self):
        self.driver.quit()


AUDITED = []


def api_token(args, username):
    body = json.dumps({"username": username, "password": PASSWORD}).encode()
    req = urllib.request.Request(args.base + "/api/v1/auth/token", data=body,
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req) as r:
        return json.load(r)["access_token"]


def api_get(args, token, path):
    req = urllib.request.Request(args.base + path, headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(req) as r:
        return json.load(r)


def api_post(args, token, path, payload):
    req = urllib.request.Request(args.base + path, data=json.dumps(payload).encode(), method="POST",
                                 headers={"Authorization": f"Bearer {token}",
                                          "Content-Type": "application/json"})
    with urllib.request.urlopen(req) as r:
        return json.load(r)


def fill_new_case(op, subject):
    op.go("/tickets/new")
    d = op.driver
    Select(d.find_element(By.NAME, "category")).select_by_value("complaint")
    d.find_element(By.NAME, "subject").send_keys(subject)
    d.find_element(By.NAME, "description").send_keys("企业于上月提交变更申请，至今未收到受理结果。")
    d.find_element(By.NAME, "enterprise.name").send_keys("黄石市下陆区恒信机械制造有限公司")
    d.find_element(By.NAME, "contact.name").send_keys("王建国")


def knowledge(args, op, sj):
    """知识库: searched and read by the operator; its policies beside the 受理 form for a
    consultation; a replied consultation kept as a draft by the department that answered it."""
    d = op.driver
    op.go("/desk")
    op.click_to_new_page(d.find_element(By.CSS_SELECTOR, "nav a[href='/knowledge']"))
    check(d.find_element(By.TAG_NAME, "h1").text == "惠企政策知识库", "the knowledge base's page")
    d.find_element(By.NAME, "q").send_keys("退税")
    op.click_to_new_page(d.find_element(By.CSS_SELECTOR, "[data-control=search]"))
    titles = [a.text for a in d.find_elements(By.CSS_SELECTOR, "tr[data-article-id] [data-field=title]")]
    check("小微企业增值税留抵退税" in titles, f"the seeded article is found: {titles}")
    op.shot("17-knowledge")
    link = next(a for a in d.find_elements(By.CSS_SELECTOR, "tr[data-article-id] [data-field=title]")
                if a.text == "小微企业增值税留抵退税")
    op.click_to_new_page(link)
    check(d.find_element(By.CSS_SELECTOR, "h1[data-field=title]").text == "小微企业增值税留抵退税",
          "the article's page")
    check("鄂税发〔2026〕8号" in d.find_element(By.CSS_SELECTOR, "[data-field=doc_number]").text,
          "with its 文号")
    check(d.find_elements(By.CSS_SELECTOR, ".article-body table"), "its body rendered, table and all")
    check(not d.find_elements(By.CSS_SELECTOR, "[data-control=edit-article]"), "an operator reads only")
    op.shot("18-knowledge-article")

    # 受理 of a consultation: the policies its words match, as soon as the category says so.
    op.go("/tickets/new")
    d.find_element(By.NAME, "subject").send_keys("咨询小微企业增值税留抵退税怎么申请")
    d.find_element(By.NAME, "description").send_keys("企业想了解增值税留抵退税的申请条件和办理渠道。")
    d.find_element(By.NAME, "enterprise.name").send_keys("黄石市下陆区恒信机械制造有限公司")
    d.find_element(By.NAME, "enterprise.credit_code").send_keys("91420204MA4B1C2D1D")
    op.wait.until(lambda d: "企业档案" in d.find_element(By.ID, "similar").text)
    check("可参考的政策" not in d.find_element(By.ID, "similar").text, "no policies before the category")
    Select(d.find_element(By.NAME, "category")).select_by_value("consultation")
    op.wait.until(lambda d: "可参考的政策" in d.find_element(By.ID, "similar").text)
    policies = [li.text for li in d.find_elements(By.CSS_SELECTOR, "#similar [data-policy]")]
    check(any("小微企业增值税留抵退税" in p and "鄂税发〔2026〕8号" in p for p in policies),
          f"the article is suggested with its 文号: {policies}")
    check(not any("创业担保贷款" in p for p in policies), f"never an expired one: {policies}")
    op.shot("19-consultation-suggests")
    Select(d.find_element(By.NAME, "category")).select_by_value("complaint")
    op.wait.until(lambda d: "可参考的政策" not in d.find_element(By.ID, "similar").text)

    # 存为知识: a consultation answered by 区市监局, kept as a draft from its case page.
    token = api_token(args, "operator")
    staff = api_token(args, "shijian")
    subject = f"个体工商户年报补报怎么办理（浏览器测试 {int(time.time())}）"
    asked = api_post(args, token, "/api/v1/tickets", {
        "channel": "hotline", "category": "consultation", "urgency": "normal",
        "enterprise": {"name": "黄石市下陆区恒信机械制造有限公司", "credit_code": "91420204MA4B1C2D1D"},
        "contact": {"name": "王建国", "phone": "13907141234"},
        "subject": subject, "description": "个体工商户去年的年报忘了报，现在怎么补报？会不会被列入经营异常名录？"})
    path = f"/api/v1/tickets/{asked['id']}/actions"
    api_post(args, token, f"{path}/dispatch", {"department": "shijian"})
    api_post(args, staff, f"{path}/sign", {})
    api_post(args, staff, f"{path}/reply", {
        "content": "登录国家企业信用信息公示系统即可补报；补报后可申请移出经营异常名录，无需另行提交材料。"})
    op.go(f"/tickets/{asked['id']}")
    check(not op.driver.find_elements(By.CSS_SELECTOR, "[data-control=save-knowledge]"),
          "not offered to the operator")
    sj.go(f"/tickets/{asked['id']}")
    check(sj.driver.find_elements(By.CSS_SELECTOR, "[data-control=save-knowledge]"),
          "offered to the department that answered")
    sj.shot("20-case-save-knowledge")
    sj.click_to_new_page(sj.driver.find_element(By.CSS_SELECTOR, "[data-control=save-knowledge]"))
    check(sj.driver.current_url.endswith("/edit"), f"to the draft's edit form: {sj.driver.current_url}")
    check(sj.driver.find_element(By.NAME, "title").get_attribute("value") == subject, "titled as the case")
    body = sj.driver.find_element(By.NAME, "body").get_attribute("value")
    check("补报后可申请移出经营异常名录" in body and asked["number"] in body,
          "the answer and the case's number in the body")
    sj.shot("21-knowledge-draft")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--base", required=True)
    p.add_argument("--shots", required=True)
    p.add_argument("--axe", required=True)
    p.add_argument("--chromium", default="/usr/bin/chromium")
    p.add_argument("--chromedriver", default="/usr/bin/chromedriver")
    args = p.parse_args()
    os.makedirs(args.shots, exist_ok=True)
    started = time.time()
    op, sj, sup = Person(args, "operator"), Person(args, "shijian"), Person(args, "supervisor")
    try:
        walk(args, op, sj, sup)
    finally:
        for person in (op, sj, sup):
            person.quit()
    print(f"browser: the loop walked by three people, {len(AUDITED)} screens audited by axe-core "
          f"(no serious or critical violation), screenshots in {args.shots}, {time.time() - started:.0f} s")


def walk(args, op, sj, sup):
    # Signed out: the sign-in page, in Chinese, audited too.
    op.go("/")
    check("/login" in op.driver.current_url, "a visitor is sent to the sign-in page")
    op.shot("01-login")
    op.sign_in("operator")
    check(op.driver.current_url.endswith("/desk"), "the operator's home is the desk")
    op.shot("02-operator-desk")

    # 受理: the credit code and phone are checked while typed, by the API's own validators.
    subject = f"食品经营许可证变更办理超时（浏览器测试 {int(time.time())}）"
    fill_new_case(op, subject)
    d = op.driver
    code = d.find_element(By.NAME, "enterprise.credit_code")
    code.send_keys("91420204MA4B1C2D1X")
    op.wait.until(lambda _: "校验位" in d.find_element(By.ID, "enterprise-credit_code-live").text)
    code.clear()
    code.send_keys("91420204MA4B1C2D1D")
    op.wait.until(lambda _: "校验通过" in d.find_element(By.ID, "enterprise-credit_code-live").text)
    phone = d.find_element(By.NAME, "contact.phone")
    phone.send_keys("(0714) 635-1234")
    op.wait.until(lambda _: "0714-6351234" in d.find_element(By.ID, "contact-phone-live").text)
    op.shot("03-new-case")
    op.click_to_new_page(d.find_element(By.CSS_SELECTOR, "[data-action=create]"))
    check("done=create" in d.current_url, f"created: {d.current_url}")
    case = urllib.parse.urlparse(d.current_url).path
    number = d.find_element(By.CSS_SELECTOR, "[data-field=number]").text
    check(number.startswith("XL-"), f"a number: {number}")
    check(op.state() == "accepted", "logged as accepted")

    # 分办 with a co-handler; the department returns it; dispatched again.
    op.act("dispatch", selects=[("department", "shijian")], multi=[("co_departments", "sifa")])
    check(op.state() == "dispatched", f"dispatched: {op.state()} {op.last_notice}")
    op.shot("04-case-dispatched")
    sj.sign_in("shijian")
    check(sj.driver.current_url.endswith("/workbench"), "the department's home is the workbench")
    sj.shot("05-department-workbench")
    sj.go(case)
    check("sign" in sj.offers() and "return" in sj.offers(), "the lead may sign or return")
    check("archive" not in sj.offers(), "only what the lifecycle allows")
    sj.act("return", fields=[("reason", "不属于本单位职责，建议转区政数局")])
    check(sj.driver.find_elements(By.CSS_SELECTOR, ".notice") or "/tickets" not in sj.driver.current_url,
          "after a return the case is no longer the department's")
    op.go(case)
    check(op.state() == "accepted", "returned to the hotline")
    op.act("dispatch", selects=[("department", "shijian")])

    # 签收, an extension asked for and approved by the supervisor.
    sj.go(case)
    sj.act("sign")
    check(sj.state() == "handling", "signed")
    sj.act("request_extension", fields=[("working_days", "5"), ("reason", "需现场核查企业材料")])
    sup.sign_in("supervisor")
    check(sup.driver.current_url.endswith("/board"), "the supervisor's home is the board")
    sup.shot("06-supervisor-board")
    check(number in sup.driver.find_element(By.ID, "extensions").text, "the request waits on the board")
    sup.go(case)
    sup.act("decide_extension", radios=[("approve", "true")], fields=[("note", "同意延期")])
    sup.shot("07-case-supervisor")

    # A page out of date: the department's page is older than the operator's comment.
    sj.go(case)
    op.go(case)
    op.act("comment", fields=[("content", "已电话告知企业办理进度")])
    sj.act("reply", fields=[("content", "已办结，许可证已变更。")])
    check("stale=1" in sj.driver.current_url, "a stale page is refused")
    check("刚刚被他人更新" in sj.driver.find_element(By.CSS_SELECTOR, ".notice").text, "and says so")
    check("已电话告知企业办理进度" in sj.driver.page_source, "the fresh page shows what changed")
    sj.shot("08-case-stale")
    sj.act("reply", fields=[("content", "已办结，许可证已变更。")])
    check(sj.state() == "replied", "replied")

    # 回访: dissatisfied reopens (重办); answered again; satisfied; archived.
    op.go(case)
    op.act("feedback", radios=[("satisfaction", "dissatisfied")], fields=[("comment", "仍未拿到许可证")])
    check(op.state() == "handling", "dissatisfied feedback reopens the case")
    sj.go(case)
    sj.act("reply", fields=[("content", "已重新办理并送达许可证。")])
    op.go(case)
    op.act("feedback", radios=[("satisfaction", "satisfied")])
    op.act("archive")
    check(op.state() == "archived", "archived")
    check(not op.offers(), "an archived case offers nothing")
    op.shot("09-case-archived")

    # A department opening another department's case: the 404 page.
    token = api_token(args, "operator")
    other = api_post(args, token, "/api/v1/tickets", {
        "channel": "hotline", "category": "help", "urgency": "normal",
        "enterprise": {"name": "某某商贸有限公司", "credit_code": "914202047745721335"},
        "contact": {"name": "李四", "phone": "13912345678"},
        "subject": "法律援助咨询", "description": "劳动合同纠纷。"})
    api_post(args, token, f"/api/v1/tickets/{other['id']}/actions/dispatch", {"department": "sifa"})
    sj.go(f"/tickets/{other['id']}")
    check("没有找到" in sj.driver.find_element(By.TAG_NAME, "h1").text, "another department's case is the 404 page")
    check("法律援助咨询" not in sj.driver.page_source, "and shows nothing of it")
    sj.shot("10-not-yours")

    # A create sent twice (the page's own guard bypassed) makes one case.
    subject2 = f"重复提交测试 {int(time.time())}"
    fill_new_case(op, subject2)
    op.driver.find_element(By.NAME, "enterprise.credit_code").send_keys("91420204MA4B1C2D1D")
    op.driver.find_element(By.NAME, "contact.phone").send_keys("13907141234")
    # Beside the form: the enterprise's file and the cases this one may repeat.
    op.wait.until(lambda d: "企业档案" in d.find_element(By.ID, "similar").text)
    op.wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#similar [data-similar]"))
    op.shot("03b-intake-repeats")
    op.driver.execute_script(
        "const f = document.querySelector('form.ticket-form'); f.submit(); f.submit();")
    op.wait.until(lambda d: "done=create" in d.current_url)
    found = api_get(args, token, "/api/v1/tickets?q=" + urllib.parse.quote(subject2))
    check(len(found["items"]) == 1, f"one case, not {len(found['items'])}")

    # 一企一档: the enterprise's page, from the case.
    op.go(case)
    op.click_to_new_page(op.driver.find_element(By.CSS_SELECTOR, "[data-control=enterprise]"))
    check("诉求记录" in op.driver.find_element(By.TAG_NAME, "main").text, "the enterprise's page")
    check(len(op.driver.find_elements(By.CSS_SELECTOR, "tr[data-ticket-id]")) >= 2, "its cases")
    op.shot("16-enterprise")

    knowledge(args, op, sj)

    # Search and lists.
    op.go("/tickets?q=" + urllib.parse.quote(number))
    rows = op.driver.find_elements(By.CSS_SELECTOR, "tr[data-ticket-id]")
    check(len(rows) == 1, "the case is found by its number")
    op.shot("11-search")

    # The larger-text mode, remembered by the browser.
    before = op.driver.execute_script("return parseFloat(getComputedStyle(document.documentElement).fontSize)")
    op.click_to_new_page(op.driver.find_element(By.CSS_SELECTOR, "[data-control=text-size]"))
    check("large" in (op.driver.execute_script("return document.documentElement.className") or ""),
          "the larger-text mode is on")
    op.go("/desk")
    after = op.driver.execute_script("return parseFloat(getComputedStyle(document.documentElement).fontSize)")
    check(after > before, f"larger text: {before} → {after}")
    op.shot("12-desk-large-text")

    # The admin's calendar.
    admin = Person(args, "admin")
    try:
        admin.sign_in("admin")
        admin.shot("13-admin-calendar")
    finally:
        admin.quit()

    # 考核报表: this month's figures (the case above among them), the charts and the downloads;
    # a department sees its own row only.
    sup.go("/reports")
    d = sup.driver
    table = d.find_element(By.CSS_SELECTOR, "table[data-table=kpis]")
    check("区市监局" in table.text and "合计" in table.text, "the supervisor's table has every department")
    check(len(d.find_elements(By.CSS_SELECTOR, ".chart svg")) == 3, "three charts")
    check(d.find_elements(By.CSS_SELECTOR, "[data-control=download-xlsx]"), "an Excel download")
    sup.shot("14-reports")
    sup.driver.find_element(By.CSS_SELECTOR, "input[name=period][value=custom]").click()
    for name, value in (("from", "2026-03-31"), ("until", "2026-03-01")):
        d.execute_script("arguments[0].value = arguments[1]", d.find_element(By.NAME, name), value)
    sup.click_to_new_page(d.find_element(By.CSS_SELECTOR, "[data-control=report]"))
    check("结束日期不能早于开始日期" in d.find_element(By.ID, "until-error").text,
          "a period the wrong way round is said beside the field")
    sj.go("/reports")
    rows = sj.driver.find_element(By.CSS_SELECTOR, "table[data-table=kpis]").text
    check("区市监局" in rows and "区司法局" not in rows, "a department sees its own figures")
    sj.shot("15-reports-department")

    # Keyboard: the skip link is the first stop and leads to the content.
    op.go("/desk")
    body = op.driver.find_element(By.TAG_NAME, "body")
    body.send_keys("\ue004")  # Tab
    focused = op.driver.switch_to.active_element
    check(focused.get_attribute("class") == "skip", "the first Tab stop is the skip link")


if __name__ == "__main__":
    try:
        main()
    except (Failure, TimeoutException) as e:
        print(f"browser test FAILED: {e}", file=sys.stderr)
        sys.exit(1)
