"""The hostile submissions: name, group, language, code, the verdicts each
test may get, extra checks on the result, and a marker (a string in the
command line of anything the submission leaves behind). @SECRET@ is the
planted secret's path, @PORT@ a port the host listens on (loopback),
@CANARY@ the file name it tries to create outside its work dir."""

ORDINARY = {
    "py": "a, b = map(int, input().split())\nprint(a + b)\n",
    "cpp": "#include <cstdio>\nint main(){int a,b;scanf(\"%d %d\",&a,&b);printf(\"%d\\n\",a+b);}\n",
    "go": "package main\nimport \"fmt\"\nfunc main(){var a,b int\nfmt.Scan(&a,&b)\nfmt.Println(a+b)}\n",
}


def no_secret_in_output(res):
    for t in res["test_cases"]:
        text = t.get("output", "") + t.get("stderr", "")
        if "runlet-secret-" in text or "root:" in text:
            return f"secret in output: {text[:200]!r}"
    if "root:" in (res.get("compile_output") or "") or "runlet-secret-" in res.get("err_msg", ""):
        return "secret in compile output"
    return None


def only_lo(res):
    out = res["test_cases"][0].get("output", "")
    if "IFACES ['lo']" not in out and "IFACES [lo]" not in out:
        return f"interfaces: {out[:300]!r}"
    return None


def no_connection(res):
    out = res["test_cases"][0].get("output", "")
    if "BANNER" in out or "CONNECTED" in out:
        return f"reached the host: {out[:300]!r}"
    return None


def not_root(res):
    for t in res["test_cases"]:
        o = t.get("output", "")
        if "uid=0" in o or "EUID 0" in o:
            return f"gained root: {o[:300]!r}"
    return None


def all_denied(res):
    out = res["test_cases"][0].get("output", "")
    if "WROTE" in out:
        return f"wrote outside: {out[:400]!r}"
    return None


def second_test_ran(res):
    t = res["test_cases"]
    if len(t) < 2 or t[1]["status"] == "IE":
        return f"second test: {t[1] if len(t) > 1 else None}"
    return None


def wall_not_cpu(res):
    t = res["test_cases"][0]
    if t["time_ms"] > 1000:
        return f"a sleeper used {t['time_ms']} ms of CPU"
    return None


def ce_message(res):
    if not res.get("compile_output") and not res.get("err_msg"):
        return "no compiler message"
    return None


CASES = [
    # ---- resources ----
    dict(name="py fork bomb", group="resources", lang="py", expect={"TLE", "RE", "MLE"},
         marker="forkbomb-3141",
         code="import os, sys\nsys.argv[0]='forkbomb-3141'\nwhile True:\n"
              "    try:\n        os.fork()\n    except OSError:\n        pass\n"),
    dict(name="cpp fork bomb", group="resources", lang="cpp", expect={"TLE", "RE", "MLE"},
         code="#include <unistd.h>\nint main(){for(;;) fork();}\n"),
    dict(name="py memory bomb", group="resources", lang="py", expect={"MLE"},
         code="a = []\nwhile True:\n    a.append(bytearray(10**7))\n"),
    dict(name="cpp memory bomb", group="resources", lang="cpp", expect={"MLE"},
         code="#include <vector>\n#include <cstring>\nint main(){std::vector<char*> v;"
              "for(;;){char*p=new char[1<<24];memset(p,1,1<<24);v.push_back(p);}}\n"),
    dict(name="py infinite loop", group="resources", lang="py", expect={"TLE"}, max_s=20,
         code="while True:\n    pass\n"),
    dict(name="cpp infinite loop", group="resources", lang="cpp", expect={"TLE"}, max_s=20,
         code="int main(){volatile int x=0; for(;;) x++;}\n"),
    dict(name="py sleep (wall limit)", group="resources", lang="py", expect={"TLE"},
         max_s=20, checks=[wall_not_cpu],
         code="import time\ntime.sleep(1000)\n"),
    dict(name="py output flood", group="resources", lang="py", expect={"OLE"}, max_s=30,
         code="import sys\nb = 'x' * 65536\nwhile True:\n    sys.stdout.write(b)\n"),
    dict(name="cpp output flood", group="resources", lang="cpp", expect={"OLE"}, max_s=30,
         code="#include <cstdio>\nint main(){static char b[65536];for(int i=0;i<65536;i++)b[i]='x';"
              "for(;;)fwrite(b,1,sizeof b,stdout);}\n"),
    dict(name="py stderr flood", group="resources", lang="py", expect={"OLE", "RE"}, max_s=30,
         code="import sys\nb = 'x' * 65536\nwhile True:\n    sys.stderr.write(b)\n"),
    dict(name="py fill the work dir", group="resources", lang="py",
         expect={"RE", "MLE", "OK"}, tests=[{"input": ""}, {"input": ""}],
         code="import os\ntry:\n    with open('big', 'ab') as f:\n        while True:\n"
              "            f.write(b'x' * (1 << 20))\nexcept OSError as e:\n    print('FULL', e)\n"),
    dict(name="py 10^5 files", group="resources", lang="py", expect={"OK", "RE", "TLE"},
         code="import os\nos.makedirs('d', exist_ok=True)\nn = 0\ntry:\n"
              "    for i in range(100000):\n        open(f'd/{i}', 'w').close()\n        n += 1\n"
              "except OSError as e:\n    print('STOP', e)\nprint(n)\n"),
    # ---- escape ----
    dict(name="py write outside the work dir", group="escape", lang="py", expect={"OK"},
         checks=[all_denied],
         code="import os\nfor d in ['/usr', '/etc', '/root', '/var/tmp', '/', '/home', '/run', '/proc', '/dev', '/.runlet']:\n"
              "    p = os.path.join(d, '@CANARY@')\n    try:\n        open(p, 'w').write('x')\n"
              "        print('WROTE', p)\n    except OSError as e:\n        print('denied', p, e.strerror)\n"
              "open('/tmp/@CANARY@', 'w').write('inside the sandbox tmpfs only')\n"),
    dict(name="cpp write outside the work dir", group="escape", lang="cpp", expect={"OK"},
         checks=[all_denied],
         code="#include <cstdio>\nint main(){const char*d[]={\"/usr/\",\"/etc/\",\"/root/\",\"/var/tmp/\",\"/\"};"
              "for(auto x:d){char p[256];snprintf(p,256,\"%s@CANARY@\",x);FILE*f=fopen(p,\"w\");"
              "if(f){printf(\"WROTE %s\\n\",p);fclose(f);}else printf(\"denied %s\\n\",p);}"
              "FILE*f=fopen(\"/tmp/@CANARY@\",\"w\");if(f)fclose(f);}\n"),
    dict(name="py read /etc/shadow and a secret in /root", group="escape", lang="py",
         expect={"OK"}, checks=[no_secret_in_output],
         code="for p in ['/etc/shadow', '/etc/gshadow', '@SECRET@', '/proc/1/environ', '/proc/kcore']:\n"
              "    try:\n        print(p, open(p).read()[:200])\n    except OSError as e:\n"
              "        print('denied', p, e.strerror)\n"),
    dict(name="cpp read /etc/shadow and a secret in /root", group="escape", lang="cpp",
         expect={"OK"}, checks=[no_secret_in_output],
         code="#include <cstdio>\nint main(){const char*p[]={\"/etc/shadow\",\"@SECRET@\"};"
              "for(auto x:p){FILE*f=fopen(x,\"r\");if(!f){printf(\"denied %s\\n\",x);continue;}"
              "char b[256]={0};fread(b,1,255,f);printf(\"%s %s\\n\",x,b);fclose(f);}}\n"),
    dict(name="py network: host loopback and interfaces", group="escape", lang="py",
         expect={"OK"}, checks=[only_lo, no_connection],
         code="import socket\nprint('IFACES', [n for _, n in socket.if_nameindex()])\n"
              "for port in [@PORT@, 5672, 15672, 22, 53, 80]:\n    for host in ['127.0.0.1', '::1']:\n"
              "        try:\n            s = socket.create_connection((host, port), timeout=0.5)\n"
              "            print('CONNECTED', host, port, s.recv(64))\n        except OSError as e:\n"
              "            print('refused', host, port, e.strerror)\n"
              "try:\n    socket.create_connection(('10.0.2.2', 80), timeout=0.5)\n    print('CONNECTED outside')\n"
              "except OSError as e:\n    print('no route', e.strerror)\n"),
    dict(name="go network: host loopback", group="escape", lang="go",
         expect={"OK"}, checks=[no_connection],
         code="package main\nimport (\"fmt\"; \"net\"; \"time\")\nfunc main(){\n"
              "ifs, _ := net.Interfaces()\nfor _, i := range ifs { fmt.Println(\"IFACE\", i.Name) }\n"
              "for _, a := range []string{\"127.0.0.1:@PORT@\", \"127.0.0.1:5672\"} {\n"
              "c, err := net.DialTimeout(\"tcp\", a, 500*time.Millisecond)\n"
              "if err == nil { b := make([]byte, 64); n, _ := c.Read(b); fmt.Println(\"CONNECTED\", a, string(b[:n])) } else { fmt.Println(\"refused\", a) }}}\n"),
    dict(name="py kill(-1, SIGKILL)", group="escape", lang="py", expect={"OK", "RE"},
         tests=[{"input": ""}, {"input": ""}], checks=[second_test_ran],
         code="import os, signal\ntry:\n    os.kill(-1, signal.SIGKILL)\nexcept OSError as e:\n"
              "    print('kill', e.strerror)\nprint('alive')\n"),
    dict(name="py double-forked setsid child outlives main", group="escape", lang="py",
         expect={"OK"}, marker="2718281828",
         code="import os\nif os.fork() == 0:\n    os.setsid()\n    if os.fork() == 0:\n"
              "        os.execv('/bin/sleep', ['sleep', '2718281828'])\n    os._exit(0)\nos.wait()\nprint('parent done')\n"),
    dict(name="py ignores SIGTERM", group="escape", lang="py", expect={"TLE"}, max_s=20,
         marker="sigterm-1618",
         code="import signal, sys\nsys.argv[0] = 'sigterm-1618'\n"
              "for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGXCPU):\n"
              "    signal.signal(s, signal.SIG_IGN)\nwhile True:\n    pass\n"),
    dict(name="py plants symlinks and FIFOs under runlet's names", group="escape", lang="py",
         expect={"OK", "RE", "WA"}, tests=[{"input": ""}, {"input": ""}],
         checks=[no_secret_in_output, second_test_ran],
         code="import os\nnames = ['main.py', 'main', 'main.cpp', 'main.go', 'a.out', 'input', 'input.txt',\n"
              "         'output', 'output.txt', 'stdin', 'stdout', 'stderr', 'plan', 'result', '.runlet',\n"
              "         'compile.log', '.cache', 'go.mod', 'tmp']\n"
              "for i, n in enumerate(names):\n    try:\n        if os.path.isdir(n) and not os.path.islink(n):\n"
              "            os.rename(n, n + '.old')\n        elif os.path.lexists(n):\n            os.unlink(n)\n"
              "        if i % 3 == 0:\n            os.symlink('/etc/shadow', n)\n        elif i % 3 == 1:\n"
              "            os.symlink('@SECRET@', n)\n        else:\n            os.mkfifo(n)\n"
              "    except OSError as e:\n        print('skip', n, e.strerror)\nprint('planted', sorted(os.listdir('.')))\n"),
    # the program replaces its own binary: test 2 cannot exec it, which the
    # runner reports as a setup failure (IE); the host is what matters here
    dict(name="cpp plants symlinks under runlet's names", group="escape", lang="cpp",
         expect={"OK", "RE", "WA", "IE"}, tests=[{"input": ""}, {"input": ""}],
         checks=[no_secret_in_output],
         code="#include <unistd.h>\n#include <sys/stat.h>\n#include <cstdio>\nint main(){"
              "const char*n[]={\"main\",\"main.cpp\",\"a.out\",\"input\",\"output\"};"
              "for(int i=0;i<5;i++){unlink(n[i]);if(i%2)mkfifo(n[i],0644);else symlink(\"/etc/shadow\",n[i]);}"
              "puts(\"planted\");}\n"),
    dict(name="py huge argv and env", group="escape", lang="py", expect={"RE", "OK"},
         code="import os\ntry:\n    os.execve('/bin/true', ['true'] + ['x' * 100000] * 200,"
              " {'A': 'y' * 1000000})\nexcept OSError as e:\n    print('exec', e.strerror)\n"),
    dict(name="py setuid: su, passwd, setuid(0)", group="escape", lang="py", expect={"OK"},
         checks=[not_root],
         code="import os, subprocess\nfor cmd in (['/usr/bin/su', '-c', 'id'], ['/usr/bin/passwd', '-S', 'root'],"
              " ['/usr/bin/newgrp', 'root'], ['/usr/bin/sudo', 'id']):\n"
              "    try:\n        r = subprocess.run(cmd, input=b'', capture_output=True, timeout=1)\n"
              "        print(cmd[0], r.returncode, r.stdout[:80], r.stderr[:80])\n"
              "    except Exception as e:\n        print(cmd[0], 'failed', e)\n"
              "try:\n    os.setuid(0)\n    print('EUID', os.geteuid())\nexcept OSError as e:\n    print('setuid', e.strerror)\n"
              "print('uid', os.getuid(), 'euid', os.geteuid())\n"),
    dict(name="cpp setuid copy of a shell", group="escape", lang="cpp", expect={"OK"},
         checks=[not_root],
         code="#include <cstdio>\n#include <cstdlib>\n#include <unistd.h>\n#include <sys/stat.h>\nint main(){"
              "system(\"cp /bin/sh ./sh && chmod 4755 ./sh\");chown(\"./sh\",0,0);chmod(\"./sh\",04755);"
              "system(\"./sh -p -c 'id -u' > out.txt 2>&1\");FILE*f=fopen(\"out.txt\",\"r\");char b[64]={0};"
              "if(f){fread(b,1,63,f);fclose(f);}printf(\"shell says uid %s\",b);"
              "if(setuid(0)==0)printf(\"EUID 0\\n\");else printf(\"setuid refused\\n\");}\n"),
    # ---- compile time ----
    dict(name="cpp #include \"/etc/shadow\"", group="compile", lang="cpp", expect={"CE"},
         checks=[no_secret_in_output, ce_message],
         code="#include \"/etc/shadow\"\nint main(){}\n"),
    dict(name="cpp #include the /root secret", group="compile", lang="cpp", expect={"CE"},
         checks=[no_secret_in_output],
         code="#include \"@SECRET@\"\nint main(){}\n"),
    dict(name="cpp deep template recursion", group="compile", lang="cpp", expect={"CE"},
         max_s=40, checks=[ce_message],
         code="template<int N> struct F { static const int v = F<N + 1>::v + 1; };\n"
              "int main(){ return F<0>::v; }\n"),
    dict(name="cpp preprocessor bomb", group="compile", lang="cpp", expect={"CE"}, max_s=60,
         code="#define A(x) x x x x x x x x x x\n#define B(x) A(A(A(x)))\n#define C(x) B(B(B(x)))\n"
              "int main(){ return C(C(1+)) 1; }\n"),
    dict(name="go //go:embed of a host file", group="compile", lang="go", expect={"CE"},
         checks=[no_secret_in_output],
         code="package main\nimport (_ \"embed\"; \"fmt\")\n//go:embed /etc/shadow\nvar s string\n"
              "func main(){ fmt.Println(s) }\n"),
    dict(name="go reads /etc/shadow and /root at run time", group="compile", lang="go",
         expect={"OK"}, checks=[no_secret_in_output],
         code="package main\nimport (\"fmt\"; \"os\")\nfunc main(){\nfor _, p := range []string{\"/etc/shadow\", \"@SECRET@\"} {\n"
              "b, err := os.ReadFile(p)\nfmt.Println(p, string(b), err)}}\n"),
]
